/**
 * Geometry for CAP areas (WGS 84 degrees). Warning areas are tens of kilometres across, so a polygon
 * is tested in the plane of latitude and longitude (the error against great-circle edges is far
 * below the size of a park); circles use the great-circle distance. A point on an edge counts as
 * inside: a site on a warning's boundary is warned.
 */
import type { CapCircle, CapPolygon } from './cap.ts';

/** Mean Earth radius, km (IUGG). */
const EARTH_RADIUS_KM = 6371.0088;
/** About 1 cm in degrees: points closer than this to an edge are on it. */
const EDGE_EPSILON_DEG = 1e-7;

export function polygonContains(poly: CapPolygon, lat: number, lon: number): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [yi, xi] = poly[i]!;
    const [yj, xj] = poly[j]!;
    if (onSegment(lat, lon, yi, xi, yj, xj)) return true;
    // Ray casting along +longitude (W. R. Franklin's crossing test).
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function onSegment(y: number, x: number, y1: number, x1: number, y2: number, x2: number): boolean {
  const dx = x2 - x1;
  const dy = y2 - y1;
  const len2 = dx * dx + dy * dy;
  const t = len2 === 0 ? 0 : Math.max(0, Math.min(1, ((x - x1) * dx + (y - y1) * dy) / len2));
  const px = x1 + t * dx - x;
  const py = y1 + t * dy - y;
  return px * px + py * py <= EDGE_EPSILON_DEG * EDGE_EPSILON_DEG;
}

/** Great-circle distance in km (haversine). */
export function distanceKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const dLat = (lat2 - lat1) * rad;
  const dLon = (lon2 - lon1) * rad;
  const a = Math.sin(dLat / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

export function circleContains(c: CapCircle, lat: number, lon: number): boolean {
  // A radius-0 circle (CAP 1.2 Appendix A.3 uses one for an epicentre) contains only its centre.
  return distanceKm(c.lat, c.lon, lat, lon) <= c.radiusKm + 1e-6;
}
