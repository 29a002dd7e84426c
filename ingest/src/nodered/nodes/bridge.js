// Shared by the ParkOps nodes: the in-process bridge (ingest/src/nodered/bridge.ts) that ParkOps hands
// to Node-RED as `settings.parkops`. Without it (a flow file opened in a stock Node-RED) the nodes say so.
'use strict';

function getBridge(RED, node) {
  const bridge = RED.settings.parkops;
  if (!bridge) {
    node.status({ fill: 'red', shape: 'ring', text: 'not running inside ParkOps' });
    node.error('The ParkOps bridge is missing: these nodes only work in the Node-RED embedded in ParkOps');
    return null;
  }
  return bridge;
}

/** "a, b ,c" -> ['a','b','c']; empty -> [] (no filter). */
function list(value) {
  if (Array.isArray(value)) return value.map(String).map((s) => s.trim()).filter(Boolean);
  if (typeof value !== 'string') return [];
  return value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** Exact match, or a prefix when the pattern ends with `*`. An empty pattern list matches everything. */
function matches(patterns, value) {
  if (patterns.length === 0) return true;
  if (typeof value !== 'string') return false;
  return patterns.some((p) => (p.endsWith('*') ? value.startsWith(p.slice(0, -1)) : p === value));
}

module.exports = { getBridge, list, matches };
