import type { PageServerLoad } from './$types';
import type { CodecView, DeviceView, UnboundDeviceView } from '@parkops/contract';
import { loadOr } from '$lib/server/load.ts';

export const load: PageServerLoad = async ({ fetch }) => {
  const [devices, unbound, codecs] = await Promise.all([
    loadOr<DeviceView[]>(fetch, '/api/devices', []),
    loadOr<UnboundDeviceView[]>(fetch, '/api/devices/unbound', []),
    loadOr<CodecView[]>(fetch, '/api/devices/codecs', []),
  ]);
  return { devices: devices.value, unbound: unbound.value, codecs: codecs.value, error: devices.error ?? unbound.error ?? codecs.error };
};
