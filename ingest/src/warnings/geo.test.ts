import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CapPolygon } from './cap.ts';
import { circleContains, distanceKm, polygonContains } from './geo.ts';

const box = (lat0: number, lon0: number, lat1: number, lon1: number): CapPolygon => [
  [lat0, lon0],
  [lat0, lon1],
  [lat1, lon1],
  [lat1, lon0],
  [lat0, lon0],
];

describe('polygons (lat,lon pairs, CAP 1.2 section 3.2.4)', () => {
  it('contains a point inside and not one outside, also for the concave and the A.2 shapes', () => {
    expect(polygonContains(box(35.3, 116.5, 35.55, 116.85), 35.43, 116.66)).toBe(true);
    expect(polygonContains(box(35.3, 116.5, 35.55, 116.85), 35.6, 116.66)).toBe(false);
    // An L: the notch is outside.
    const ell: CapPolygon = [[0, 0], [0, 2], [1, 2], [1, 1], [2, 1], [2, 0], [0, 0]];
    expect(polygonContains(ell, 0.5, 1.5)).toBe(true);
    expect(polygonContains(ell, 1.5, 1.5)).toBe(false);
    const a2: CapPolygon = [[38.47, -120.14], [38.34, -119.95], [38.52, -119.74], [38.62, -119.89], [38.47, -120.14]];
    expect(polygonContains(a2, 38.48, -119.93)).toBe(true);
    expect(polygonContains(a2, 35.43, 116.66)).toBe(false);
  });

  it('counts a point on an edge or a corner as inside', () => {
    expect(polygonContains(box(0, 0, 1, 1), 0, 0.5)).toBe(true);
    expect(polygonContains(box(0, 0, 1, 1), 1, 1)).toBe(true);
  });

  it('contains every point strictly inside a box and none outside it (fast-check)', () => {
    const coord = fc.double({ min: -60, max: 60, noNaN: true });
    fc.assert(
      fc.property(coord, coord, fc.double({ min: 0.01, max: 5, noNaN: true }), fc.double({ min: 0.01, max: 5, noNaN: true }), fc.double({ min: -2, max: 3, noNaN: true }), fc.double({ min: -2, max: 3, noNaN: true }), (lat, lon, h, w, u, v) => {
        const lat2 = lat + u * h;
        const lon2 = lon + v * w;
        const inside = u > 0.001 && u < 0.999 && v > 0.001 && v < 0.999;
        const outside = u < -0.001 || u > 1.001 || v < -0.001 || v > 1.001;
        if (inside) expect(polygonContains(box(lat, lon, lat + h, lon + w), lat2, lon2)).toBe(true);
        if (outside) expect(polygonContains(box(lat, lon, lat + h, lon + w), lat2, lon2)).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });
});

describe('circles ("lat,lon radius", radius in km)', () => {
  it('measures great-circle distance: one degree of latitude is about 111.2 km', () => {
    expect(distanceKm(35, 116, 36, 116)).toBeCloseTo(111.19, 1);
    expect(distanceKm(35.43, 116.66, 35.43, 116.66)).toBe(0);
  });
  it('contains points within the radius, and a radius-0 circle only its centre (CAP 1.2 Appendix A.3)', () => {
    expect(circleContains({ lat: 35.4, lon: 116.6, radiusKm: 10 }, 35.43, 116.66)).toBe(true);
    expect(circleContains({ lat: 35.4, lon: 116.6, radiusKm: 5 }, 35.43, 116.66)).toBe(false);
    expect(circleContains({ lat: 32.9525, lon: -115.5527, radiusKm: 0 }, 32.9525, -115.5527)).toBe(true);
    expect(circleContains({ lat: 32.9525, lon: -115.5527, radiusKm: 0 }, 32.9526, -115.5527)).toBe(false);
  });
});
