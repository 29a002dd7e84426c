// parkops-alert: emits every ParkOps alert change (opened, acknowledged, resolved, renotified, escalated,
// worsened, ...), optionally filtered by severity, rule, room and change.
//
// msg.payload: the alert (docs/api.md, the alert object); msg.alert: the same alert (kept when a later node
// replaces msg.payload); msg.change; msg.severity; msg.topic: "alerts/<id>";
// msg.text: {title, markdown, zh, en}; msg.format: the settings webhook's format (wecom|dingtalk|json).
'use strict';
const { getBridge, list, matches } = require('./bridge.js');

module.exports = function (RED) {
  function ParkOpsAlertNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const bridge = getBridge(RED, node);
    if (!bridge) return;
    const severities = list(config.severity);
    const rules = list(config.rule);
    const rooms = list(config.room);
    const changes = list(config.change);
    let count = 0;

    const off = bridge.onAlert(({ alert, change, text, format }) => {
      const room = alert.room || (alert.subject.startsWith('flood/') ? alert.subject.split('/')[1] : undefined);
      if (!matches(severities, alert.severity) || !matches(rules, alert.rule) || !matches(rooms, room) || !matches(changes, change)) return;
      count += 1;
      node.status({ fill: alert.severity === 'critical' ? 'red' : alert.severity === 'warning' ? 'yellow' : 'blue', shape: 'dot', text: `${count}: ${alert.severity} ${change}` });
      node.send({ topic: `alerts/${alert.id}`, payload: alert, alert: RED.util.cloneMessage(alert), change, severity: alert.severity, text, format });
    });
    node.on('close', (done) => {
      off();
      done();
    });
  }
  RED.nodes.registerType('parkops-alert', ParkOpsAlertNode);
};
