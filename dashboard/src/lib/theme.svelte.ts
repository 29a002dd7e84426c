/**
 * Canvas drawings (lot map, charts) read colours from CSS variables, so they must redraw when the
 * colours change: the theme switch (data-theme on <html>) or the system's light/dark setting.
 */
class ThemeWatch {
  /** bumps on every change; read it in an effect to redraw */
  version = $state(0);
  private stopFn: (() => void) | null = null;

  start(): void {
    if (this.stopFn || typeof window === 'undefined') return;
    const bump = (): void => { this.version++; };
    const mq = window.matchMedia('(prefers-color-scheme: dark)');
    mq.addEventListener('change', bump);
    const obs = new MutationObserver(bump);
    obs.observe(document.documentElement, { attributes: true, attributeFilter: ['data-theme'] });
    this.stopFn = () => { mq.removeEventListener('change', bump); obs.disconnect(); };
  }
  stop(): void {
    this.stopFn?.();
    this.stopFn = null;
  }
}
export const themeWatch = new ThemeWatch();
