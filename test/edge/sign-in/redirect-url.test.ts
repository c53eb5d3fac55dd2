import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkLoopbackRedirect } from '../../../src/edge/sign-in/redirect-url.js';
import { AirlockError } from '../../../src/shared/errors.js';

function refused(text: unknown, pattern: RegExp) {
  assert.throws(
    () => checkLoopbackRedirect(text),
    (error: unknown) => {
      assert.ok(error instanceof AirlockError);
      assert.equal(error.code, 'BAD_ARGUMENT');
      assert.match(error.message, pattern);
      return true;
    },
  );
}

describe('checkLoopbackRedirect', () => {
  for (const url of [
    'http://127.0.0.1:53117/callback',
    'http://[::1]:8080/callback',
    'http://localhost:1/callback',
    'http://127.0.0.1/callback',
    'http://127.0.0.1:80/callback',
    'http://127.0.0.1:65535/callback?x=1',
  ]) {
    test(`accepts ${url}`, () => {
      assert.equal(checkLoopbackRedirect(url).pathname, '/callback');
    });
  }

  test('rejects a missing redirect_url', () => refused(undefined, /missing/));
  test('rejects https (the loopback listener speaks http)', () =>
    refused('https://127.0.0.1:5000/callback', /must use http/));
  test('rejects another scheme', () => refused('javascript://127.0.0.1/%0aalert(1)', /must use http/));
  test('rejects another host', () => refused('http://evil.example/callback', /127\.0\.0\.1, \[::1\] or localhost/));
  test('rejects a host that merely starts with localhost', () =>
    refused('http://localhost.evil.example/callback', /127\.0\.0\.1/));
  test('rejects a 127.x address other than 127.0.0.1', () => refused('http://127.0.0.2:5000/callback', /127\.0\.0\.1/));
  test('rejects the userinfo trick http://127.0.0.1@evil', () =>
    refused('http://127.0.0.1@evil.example/callback', /not allowed/));
  test('rejects the userinfo trick with a port', () =>
    refused('http://127.0.0.1:5000@evil.example/callback', /not allowed/));
  test('rejects a fragment', () => refused('http://127.0.0.1:5000/callback#x', /not allowed/));
  test('rejects a backslash (parsed as a slash by browsers)', () =>
    refused('http://evil.example\\@127.0.0.1/callback', /not allowed/));
  test('rejects a shortened IPv4 form (127.1)', () => refused('http://127.1:5000/callback', /plain form/));
  test('rejects a hex IPv4 form', () => refused('http://0x7f.0.0.1:5000/callback', /plain form/));
  test('rejects a trailing-dot host', () => refused('http://localhost.:5000/callback', /127\.0\.0\.1|plain form/));
  test('rejects whitespace and control characters', () => {
    refused('http://127.0.0.1:5000/call back', /not allowed/);
    refused('http://127.0.0.1:5000/callback\r\nSet-Cookie: x', /not allowed/);
  });
  test('rejects something that is not a URL', () => refused('not a url', /not allowed|not a URL/));
  test('rejects an over-long URL', () => refused(`http://127.0.0.1:5000/${'a'.repeat(3000)}`, /too long/));
});
