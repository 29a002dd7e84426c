/**
 * A notification tap opens `/flood?alert=<id>`: scroll that alert's row into view, mark it, and put
 * the keyboard focus on its acknowledge button, so one more tap acknowledges it.
 */
export function focusAlert(id: string, root: ParentNode = document): boolean {
  const row = root.querySelector<HTMLElement>(`[data-testid="alert-item"][data-alert-id="${CSS.escape(id)}"]`);
  if (!row) return false;
  row.scrollIntoView({ block: 'center' });
  row.classList.add('focused-alert');
  const ack = row.querySelector<HTMLElement>('[data-testid="ack-button"]');
  if (!ack && !row.hasAttribute('tabindex')) row.setAttribute('tabindex', '-1');
  (ack ?? row).focus({ preventScroll: true });
  return true;
}
