import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isLandingRequest } from '../../src/inbound/landing.js';
import { escapeHtml, landingHtml } from '../../src/inbound/landing-page.js';

test('landing requests: GET or HEAD of the page and the three downloads, query ignored', () => {
  for (const path of ['/', '/cert/pem', '/cert/der', '/cert/p12', '/?from=browser', '/cert/pem?x=1']) {
    assert.equal(isLandingRequest('GET', path), true, path);
    assert.equal(isLandingRequest('HEAD', path), true, path);
  }
  for (const path of ['/favicon.ico', '/cert', '/cert/pem/', '/CERT/PEM', '//', '*']) {
    assert.equal(isLandingRequest('GET', path), false, path);
  }
  assert.equal(isLandingRequest('POST', '/'), false);
  assert.equal(isLandingRequest(undefined, '/'), false);
});

test('every value on the page is escaped', () => {
  assert.equal(escapeHtml(`<a href="x" onclick='y'>&</a>`), '&#60;a href=&#34;x&#34; onclick=&#39;y&#39;&#62;&#38;&#60;/a&#62;');
  const html = landingHtml({
    fingerprint: 'AB:CD',
    subject: 'O=<script>alert(1)</script>, CN=x"y',
    notAfter: new Date('2030-01-02T03:04:05Z'),
    proxyUrl: 'http://127.0.0.1:8080/"><img src=x>',
  });
  assert.ok(!html.includes('<script>'), 'the subject must not become markup');
  assert.ok(!html.includes('<img'), 'the proxy URL must not become markup');
  assert.ok(html.includes('&#60;script&#62;alert(1)&#60;/script&#62;'));
  assert.ok(html.includes('AB:CD'));
  assert.ok(html.includes('2030-01-02T03:04:05.000Z'));
});

test('the page is self-contained: no scripts, no outside resources', () => {
  const html = landingHtml({ fingerprint: 'AB', subject: 'CN=x', notAfter: new Date(0), proxyUrl: 'http://127.0.0.1:1' });
  assert.doesNotMatch(html, /<script|<link|<img|src=|@import|url\(/i);
  // Links are relative, so they work under the proxy's address and under mitm.it alike.
  const links = [...html.matchAll(/href="([^"]*)"/g)].map((match) => match[1]);
  assert.deepEqual(links, ['/cert/pem', '/cert/der', '/cert/p12']);
  for (const step of [
    'update-ca-certificates',
    'certutil -d sql:',
    'security add-trusted-cert',
    'certutil -addstore Root',
    'Android',
    'iOS',
    'NODE_EXTRA_CA_CERTS',
    'REQUESTS_CA_BUNDLE',
    'CURL_CA_BUNDLE',
  ]) {
    assert.ok(html.includes(step), `install steps mention ${step}`);
  }
});
