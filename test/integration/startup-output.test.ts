/**
 * Start-up a person can read, on the real process as `npm start` runs it (test/harness/system.ts): a
 * first start without PARKOPS_ADMIN_PASSWORD shows the dashboard URL and the generated password once,
 * in the summary for people and never in the JSON log; Node-RED does not warn about missing encrypted
 * credentials; and PARKOPS_SIM_SPEED plays the storm scenario from hours ago up to now at that speed,
 * so its flood alerts are there within seconds.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Alert } from '@parkops/contract/api.ts';
import { startParkOps, type ParkOpsProcess } from '../harness/system.ts';
import { eventually } from '../support/mqtt.ts';

let sys: ParkOpsProcess;
let password: string;

beforeAll(async () => {
  sys = await startParkOps({
    env: {
      // Empty means unset (as compose files write it): the first admin gets a generated password.
      PARKOPS_ADMIN_PASSWORD: '',
      PARKOPS_NODE_RED: 'true',
      PARKOPS_SIMULATE: 'true',
      PARKOPS_SIM_SCENARIOS: 'storm',
      // The storm's 4 hours in about 15 s of real time.
      PARKOPS_SIM_SPEED: '1000',
      LOG_LEVEL: 'info',
    },
  });
  const banner = await eventually(() => /\n {2}ParkOps is running\n[\s\S]*?\n\n/.exec(sys.output())?.[0], 30_000, 'the start-up summary');
  password = /password (\S+)/.exec(banner)![1]!;
});

afterAll(async () => {
  await sys?.stop();
});

describe('start-up output', () => {
  it('shows the dashboard URL and the generated password once, and keeps the password out of the JSON log', () => {
    const out = sys.output();
    expect(out).toContain(`Dashboard   ${sys.baseUrl}\n`);
    expect(password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(out.split(password).length - 1).toBe(1);
    const json = out.split('\n').filter((l) => l.startsWith('{'));
    expect(json.length).toBeGreaterThan(5);
    expect(json.filter((l) => l.includes(password))).toEqual([]);
    expect(json.some((l) => l.includes('generated password, shown once in the start-up output'))).toBe(true);
    expect(out).not.toContain('Encrypted credentials not found');
  });

  it('lets the admin sign in with it, and asks for a new one', async () => {
    const res = await fetch(`${sys.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: sys.baseUrl }, body: JSON.stringify({ username: 'admin', password }) });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ username: 'admin', mustChangePassword: true });
  });

  // At real time the storm reaches critical after about two hours; at 1000x, in seconds.
  it('plays the storm at PARKOPS_SIM_SPEED: a critical flood alert within seconds', async () => {
    const login = await fetch(`${sys.baseUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', origin: sys.baseUrl }, body: JSON.stringify({ username: 'admin', password }) });
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    await eventually(
      async () => {
        const alerts = (await (await fetch(`${sys.baseUrl}/api/alerts?state=all`, { headers: { cookie } })).json()) as Alert[];
        return alerts.find((a) => a.rule.startsWith('flood') && a.severity === 'critical');
      },
      120_000,
      'a critical flood alert from the accelerated storm',
    );
    // The simulated clock started PARKOPS_SIM_CATCH_UP_HOURS (4) ago.
    const from = /"msg":"simulators: [^"]* live from ([0-9T:.+-]+)"/.exec(sys.output())?.[1];
    expect(Math.round((Date.now() - Date.parse(from!)) / 3_600_000)).toBe(4);
  });
});
