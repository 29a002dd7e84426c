import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { dashboardUrl, startupBanner } from './startup.ts';

const config = (env: Record<string, string> = {}) => loadConfig({ PARKOPS_DATA_DIR: '/srv/parkops/data', ...env }, { dotenv: false });

describe('start-up output', () => {
  it('says where the dashboard is, and the generated password once, with what to do about it', () => {
    const text = startupBanner({ config: config(), firstAdmin: { username: 'admin', password: 'k7QmZp2vXy8RtWnB4cDe' } });
    expect(text).toContain('  Dashboard   http://localhost:3000\n');
    expect(text).toContain('user "admin", password k7QmZp2vXy8RtWnB4cDe');
    expect(text).toContain('you choose your own password at the first sign-in');
    expect(text).toContain('Node-RED    http://localhost:3000/flows');
    expect(text).toContain('Data        /srv/parkops/data');
    expect(startupBanner({ config: config() })).not.toContain('password');
  });

  it('explains an accelerated simulation: from how long ago, how fast, how long it takes', () => {
    const text = startupBanner({ config: config({ PARKOPS_SIMULATE: 'true', PARKOPS_SIM_SPEED: '60', PARKOPS_SIM_SCENARIOS: 'storm' }) });
    expect(text).toContain('Simulators  on, 60× real time from 4 h ago until now (about 4 min), then live, scenarios storm');
    expect(startupBanner({ config: config({ PARKOPS_SIMULATE: 'true', PARKOPS_SIM_SPEED: '1000' }) })).toContain('(about 14 s)');
    expect(startupBanner({ config: config({ PARKOPS_SIMULATE: 'true' }) })).toContain('Simulators  on, live (PARKOPS_SIMULATE=false');
    expect(startupBanner({ config: config({ PARKOPS_NODE_RED: 'false' }) })).not.toContain('Node-RED');
  });

  it('names the address a person types', () => {
    expect(dashboardUrl({ HOST: '0.0.0.0', PORT: 3000 })).toBe('http://localhost:3000');
    expect(dashboardUrl({ HOST: '127.0.0.1', PORT: 8080 })).toBe('http://127.0.0.1:8080');
    expect(dashboardUrl({ HOST: '::1', PORT: 3000 })).toBe('http://[::1]:3000');
  });
});
