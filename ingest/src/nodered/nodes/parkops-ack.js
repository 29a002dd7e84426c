// parkops-ack: acknowledges a ParkOps alert from a flow, for example from a chat-bot reply.
//
// In: msg.payload = {id, note?, by?} (or the alert id as a string, with msg.note / msg.by).
// `by` names the person; the node's "by" setting is the fallback. Out: msg.payload = the acknowledged
// alert. A refusal (unknown alert, bad input) is a node error that a Catch node can handle.
'use strict';
const { getBridge } = require('./bridge.js');

module.exports = function (RED) {
  function ParkOpsAckNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const bridge = getBridge(RED, node);
    if (!bridge) return;
    node.on('input', (msg, send, done) => {
      const p = msg.payload;
      const input = typeof p === 'string' ? { id: p, note: msg.note, by: msg.by } : p && typeof p === 'object' ? p : {};
      const by = input.by !== undefined && input.by !== null && input.by !== '' ? input.by : config.by || undefined;
      bridge
        .acknowledge(input.id, by, input.note)
        .then((alert) => {
          node.status({ fill: 'green', shape: 'dot', text: `acknowledged ${input.id}` });
          msg.payload = alert;
          send(msg);
          done();
        })
        .catch((err) => {
          node.status({ fill: 'red', shape: 'ring', text: 'refused' });
          done(err instanceof Error ? err.message : String(err));
        });
    });
  }
  RED.nodes.registerType('parkops-ack', ParkOpsAckNode);
};
