// Malformed input anywhere in the edge's HTTP handling is the sender's error: a 400 with a reason,
// never a 500, and the request still leaves its audit record.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { waitUntil } from '../helpers/airlock-processes.js';
import { edgeJson, startHostEdge, type HostEdge } from '../helpers/host-edge.js';

let edge: HostEdge;
before(async () => {
  edge = await startHostEdge();
});
after(() => edge?.close());

test('a malformed %-escape in an admin path is a 400 with the reason, and is audited', async () => {
  const token = await edge.credential();
  const answer = await edgeJson(edge, 'DELETE', '/cdn-cgi/admin/tunnels/%E0%A4%A', { token });
  assert.equal(answer.status, 400);
  assert.match(String(answer.body.message), /the tunnel name in the path has a malformed %-escape/);
  // The audit file is written asynchronously: wait for the record rather than read too soon.
  const adminRecord = () =>
    readFileSync(edge.auditFile, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.event === 'admin')
      .at(-1);
  await waitUntil('the admin record in the audit log', async () => adminRecord() !== undefined, 5_000, 50);
  const record = adminRecord();
  assert.equal(record?.status, 400);
  assert.equal(record?.action, 'DELETE tunnels/NAME');
  assert.match(String(record?.reason), /malformed %-escape/);
});
