// parkops-notify: hands a message to ParkOps' notifier, which stores it, POSTs it with a timeout,
// retries with exponential backoff and records every attempt (the dashboard shows failures).
// The hand-off returns at once: a slow or dead receiver never holds up the flow.
//
// In: msg.payload = the request body; msg.alert (or msg.payload.id) and msg.change say which alert change
// it is for (a parkops-alert node sets both). Target, in order:
// - the node's "send through" channel: `wecom`, `dingtalk` or `feishu` sends to the robot the ParkOps
//   settings name (PARKOPS_*_URL), signed at send time exactly as ParkOps signs its own messages
//   (DingTalk 加签, Feishu 签名校验): the secret never enters Node-RED;
// - else the node's URL, else msg.url, else the settings webhook (PARKOPS_WEBHOOK_URL). The node's URL is
//   a credential: robot URLs carry their key. A robot that demands signing refuses these unsigned posts:
//   use the channel instead.
'use strict';
const { getBridge } = require('./bridge.js');

const CHANNELS = ['wecom', 'dingtalk', 'feishu'];

module.exports = function (RED) {
  function ParkOpsNotifyNode(config) {
    RED.nodes.createNode(this, config);
    const node = this;
    const bridge = getBridge(RED, node);
    if (!bridge) return;
    const channel = CHANNELS.includes(config.channel) ? config.channel : '';
    const url = (node.credentials && node.credentials.url) || '';
    if (!channel && !url && !bridge.settingsWebhook().url) {
      node.status({ fill: 'grey', shape: 'ring', text: 'no webhook set (PARKOPS_WEBHOOK_URL)' });
    }
    let warnedNoTarget = false;
    node.on('input', (msg, send, done) => {
      const target = url || (typeof msg.url === 'string' ? msg.url : '');
      if (!channel && !target && !bridge.settingsWebhook().url) {
        // Not an error per message: an unset webhook is a deployment choice. Say it once.
        if (!warnedNoTarget) node.warn('no webhook URL: set PARKOPS_WEBHOOK_URL or give this node a URL; messages are dropped');
        warnedNoTarget = true;
        done();
        return;
      }
      const alert = msg.alert && typeof msg.alert === 'object' ? msg.alert : msg.payload;
      bridge.handOff({ alertId: alert && alert.id, change: msg.change, channel: channel || undefined, target: channel ? undefined : target, body: msg.payload }).then(
        (id) => {
          node.status({ fill: 'green', shape: 'dot', text: `queued #${id}` });
          msg.deliveryId = id;
          send(msg);
          done();
        },
        (err) => {
          node.status({ fill: 'red', shape: 'ring', text: 'not queued' });
          done(err instanceof Error ? err.message : String(err));
        },
      );
    });
  }
  RED.nodes.registerType('parkops-notify', ParkOpsNotifyNode, { credentials: { url: { type: 'password' } } });
};
