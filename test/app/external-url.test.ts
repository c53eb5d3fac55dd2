import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isSafeExternalUrl } from '../../src/app/service/external-url.js';

test('opens https URLs', () => assert.equal(isSafeExternalUrl('https://docs.example.com/airlock?x=1'), true));
test('refuses http', () => assert.equal(isSafeExternalUrl('http://example.com'), false));
test('refuses file URLs', () => assert.equal(isSafeExternalUrl('file:///etc/passwd'), false));
test('refuses javascript URLs', () => assert.equal(isSafeExternalUrl('javascript:alert(1)'), false));
test('refuses other schemes that launch programs', () => {
  assert.equal(isSafeExternalUrl('smb://host/share'), false);
  assert.equal(isSafeExternalUrl('airlock://connect/db'), false);
});
test('refuses embedded credentials', () => assert.equal(isSafeExternalUrl('https://user:pass@example.com'), false));
test('refuses whitespace and control characters', () =>
  assert.equal(isSafeExternalUrl('https://example.com/\nx'), false));
test('refuses non-URLs', () => assert.equal(isSafeExternalUrl('not a url'), false));
