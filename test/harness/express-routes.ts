/** The routes an express 4 app has mounted, read from its router stack: for tests that compare them with what is documented or decided. */
import type { Express } from 'express';

/** Every route of an express 4 app, with the mount paths of nested routers (layer.regexp holds them). */
export function listRoutes(app: Express): string[] {
  type Layer = { route?: { path: string | string[]; methods: Record<string, boolean> }; name: string; regexp: RegExp & { fast_slash?: boolean }; handle: { stack?: Layer[] } };
  const out: string[] = [];
  const mountPath = (layer: Layer): string => {
    if (layer.regexp.fast_slash) return '';
    const src = layer.regexp.source.replace(/^\^/, '').replace('\\/?(?=\\/|$)', '').replace(/\\\//g, '/');
    if (/[\\()[\]|?*+]/.test(src)) throw new Error(`cannot read the mount path of router ${layer.regexp}`);
    return src;
  };
  const walk = (stack: Layer[], prefix: string) => {
    for (const layer of stack) {
      if (layer.route) {
        for (const path of [layer.route.path].flat()) {
          // A router's `get('/')` mounted at /x answers /x: list it without the trailing slash.
          const full = `${prefix}${path}`.replace(/(.)\/$/, '$1');
          for (const method of Object.keys(layer.route.methods)) if (method !== '_all') out.push(`${method.toUpperCase()} ${full}`);
        }
      } else if (layer.name === 'router' && layer.handle.stack) {
        walk(layer.handle.stack, prefix + mountPath(layer));
      }
    }
  };
  walk((app as unknown as { _router: { stack: Layer[] } })._router.stack, '');
  return [...new Set(out)];
}
