// parkops-reading: a tap of the readings ParkOps accepted, optionally filtered by kind
// (bay, gate, level, pump, venue, status) and subject. Duplicates (QoS 1 redeliveries) are left out.
//
// msg.payload: the reading; msg.topic: its subject (e.g. flood/b1-power/levels/L1); msg.kind;
// msg.applied: false for a back-filled reading older than the live state; msg.receivedAt (epoch ms).
'use strict';
const { getBridge, list, matches } = require('./bridge.js');

module.exports = function (RED) {
  function ParkOpsReadingNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const bridge = getBridge(RED, node);
    if (!bridge) return;
    const kinds = list(config.kind);
    const subjects = list(config.subject);
    const off = bridge.onReading(({ reading, duplicate, applied, receivedAt }) => {
      if (duplicate || !matches(kinds, reading.kind) || !matches(subjects, reading.subject)) return;
      node.send({ topic: reading.subject, payload: reading, kind: reading.kind, applied, receivedAt });
    });
    node.status({ fill: 'green', shape: 'dot', text: kinds.length ? kinds.join(', ') : 'all readings' });
    node.on('close', (done) => {
      off();
      done();
    });
  }
  RED.nodes.registerType('parkops-reading', ParkOpsReadingNode);
};
