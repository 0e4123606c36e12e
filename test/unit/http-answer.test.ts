/**
 * Operations return data; the HTTP layer alone turns it into a status and headers
 * (shared/http/endpoint.ts answerOf): the endpoint's one success status, the ETag from the
 * answer, the Location of a created resource, no body for an operation that returns nothing.
 */
import * as api from '../../shared/api/endpoints';
import { answerOf, successStatus, type Endpoint } from '../../shared/http/endpoint';

// The webhook answers Graph's validation handshake (200) and deliveries (202): its function file maps them itself.
const endpoints = Object.values(api).filter((e): e is Endpoint => typeof e === 'object' && e !== null && 'route' in e && 'responses' in e && e !== api.graphNotifications);

it('every endpoint of the contract lists exactly one success status', () => {
  expect(endpoints.length).toBeGreaterThan(20);
  for (const endpoint of endpoints) expect({ name: endpoint.name, status: successStatus(endpoint) }).toEqual({ name: endpoint.name, status: expect.any(Number) });
});

it('answers with the endpoint success status, and no body for nothing', () => {
  expect(answerOf(api.deleteGroup, undefined)).toEqual({ status: 204 });
  expect(answerOf(api.forceUserSync, { status: 'pending' })).toEqual({ status: 202, body: { status: 'pending' }, headers: {} });
});

it('takes the ETag from the answer, or where the endpoint says it is, and the Location of a creation', () => {
  const group = { id: 'sales team', etag: 'W/"1"' };
  expect(answerOf(api.getGroup, group).headers).toEqual({ etag: 'W/"1"' });
  expect(answerOf(api.createGroup, group)).toEqual({ status: 201, body: group, headers: { etag: 'W/"1"', location: '/api/groups/sales%20team' } });
  expect(answerOf(api.toggleGroup, { group, changed: true }).headers).toEqual({ etag: 'W/"1"' });
});

it('refuses a contract with two success statuses', () => {
  expect(() => successStatus({ name: 'x', responses: { 200: { description: 'a' }, 202: { description: 'b' } } })).toThrow(/exactly one success status/);
});
