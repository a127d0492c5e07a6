// The playground at /: GraphiQL from npm, served from the binary (no CDN).
import { createElement } from 'react';
import { createRoot } from 'react-dom/client';
import { GraphiQL } from 'graphiql';
import { createClient } from 'graphql-ws';
import { getOperationAST, parse } from 'graphql';
import 'graphiql/style.css';
import './playground.css';
import { defaultTabs } from './operations.js';

const httpURL = '/graphql';
const wsURL = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;

function headerValue(headers, name) {
  for (const [k, v] of Object.entries(headers || {})) {
    if (k.toLowerCase() === name.toLowerCase()) return String(v);
  }
  return '';
}

async function post(params, headers) {
  const res = await fetch(httpURL, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', ...headers },
    body: JSON.stringify(params),
  });
  return res.json();
}

// connectionParams for the websocket: the Authorization header, else
// X-Debug-User, else (dev mode) the demo user the HTTP endpoint answers as.
async function connectionParams(headers) {
  const authorization = headerValue(headers, 'Authorization');
  if (authorization) return { Authorization: authorization };
  let debugUser = headerValue(headers, 'X-Debug-User');
  if (!debugUser) {
    const me = await post({ query: '{ me { id } }' }, {});
    debugUser = me?.data?.me?.id || '';
  }
  return debugUser ? { debugUser } : {};
}

function subscribe(params, headers) {
  // An async iterator over one graphql-ws subscription, closed with its socket.
  let client;
  const queue = [];
  let wake = null;
  let done = false;
  const push = (item) => { queue.push(item); if (wake) { wake(); wake = null; } };
  const start = connectionParams(headers).then((cp) => {
    client = createClient({ url: wsURL, connectionParams: cp, lazy: true, retryAttempts: 0 });
    client.subscribe(params, {
      next: (v) => push({ value: v }),
      error: (e) => push({ value: { errors: [{ message: e?.reason || e?.message || 'websocket closed' }] }, end: true }),
      complete: () => push({ end: true }),
    });
  });
  return {
    [Symbol.asyncIterator]() { return this; },
    async next() {
      await start;
      while (!queue.length) {
        if (done) return { done: true, value: undefined };
        await new Promise((r) => { wake = r; });
      }
      const item = queue.shift();
      if (item.end) done = true;
      if (item.value !== undefined) return { done: false, value: item.value };
      if (client) client.dispose();
      return { done: true, value: undefined };
    },
    async return() { done = true; if (client) client.dispose(); return { done: true, value: undefined }; },
  };
}

function isSubscription(params) {
  try {
    const op = getOperationAST(parse(params.query || ''), params.operationName || undefined);
    return op?.operation === 'subscription';
  } catch {
    return false; // the server reports the syntax error
  }
}

// operationName drops a name the document does not define: right after a
// tab switch GraphiQL may still send the previous tab's.
function withOperationName(params) {
  if (!params.operationName) return params;
  try {
    if (getOperationAST(parse(params.query || ''), params.operationName)) return params;
  } catch {
    return params; // the server reports the syntax error
  }
  return { ...params, operationName: undefined };
}

function fetcher(graphiQLParams, opts) {
  const params = withOperationName(graphiQLParams);
  const headers = opts?.headers || {};
  if (isSubscription(params)) return subscribe(params, headers);
  return post(params, headers);
}

createRoot(document.getElementById('graphiql')).render(
  createElement(GraphiQL, {
    fetcher,
    defaultTabs,
    defaultEditorToolsVisibility: 'headers',
    shouldPersistHeaders: false,
    defaultHeaders: '{}',
  }),
);
