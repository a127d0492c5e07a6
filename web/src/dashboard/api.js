// The dashboard's transport: GraphQL over HTTP with the access token, a
// single-flight token refresh, and the live insight feed over
// graphql-transport-ws that resumes from its last cursor after a disconnect.
import { createClient } from 'graphql-ws';
import { REFRESH } from './operations.js';

const KEY = 'vitalgraph.session';
const wsURL = () => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/graphql`;

export class GraphQLError extends Error {
  constructor(errors) {
    super(errors.map((e) => e.message).join('; '));
    this.errors = errors;
    this.code = errors[0]?.extensions?.code || '';
  }
}

// Session: the tokens of the signed-in user, kept in sessionStorage.
export const session = {
  get() {
    try { return JSON.parse(sessionStorage.getItem(KEY)) || null; } catch { return null; }
  },
  set(auth) {
    sessionStorage.setItem(KEY, JSON.stringify({
      accessToken: auth.accessToken, refreshToken: auth.refreshToken,
      expiresAt: auth.expiresAt, user: auth.user,
    }));
  },
  clear() { sessionStorage.removeItem(KEY); },
};

async function post(query, variables, token) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  let body;
  try { body = await res.json(); } catch { body = null; }
  if (res.status === 401) {
    const err = new GraphQLError([{ message: body?.message || 'unauthorized', extensions: { code: 'EUNAUTHORIZED' } }]);
    err.status = 401;
    throw err;
  }
  if (!body) throw new GraphQLError([{ message: `HTTP ${res.status}` }]);
  if (body.errors?.length) throw new GraphQLError(body.errors);
  return body.data;
}

let refreshing = null;

// refresh rotates the refresh token once, however many callers ask at once.
export function refresh() {
  if (!refreshing) {
    const s = session.get();
    refreshing = (async () => {
      if (!s?.refreshToken) throw new GraphQLError([{ message: 'signed out', extensions: { code: 'EUNAUTHORIZED' } }]);
      const data = await post(REFRESH, { token: s.refreshToken });
      session.set(data.refreshToken);
      return data.refreshToken.accessToken;
    })().finally(() => { refreshing = null; });
  }
  return refreshing;
}

// accessToken returns a token valid for at least 30 more seconds.
export async function accessToken() {
  const s = session.get();
  if (!s) return '';
  if (Date.parse(s.expiresAt) - Date.now() < 30_000) return refresh();
  return s.accessToken;
}

// gql runs an operation as the signed-in user (anonymously when signed out);
// a 401 refreshes the token and retries once.
export async function gql(query, variables = {}) {
  const token = await accessToken();
  try {
    return await post(query, variables, token);
  } catch (e) {
    if (e.status === 401 && token) return post(query, variables, await refresh());
    throw e;
  }
}

// pages follows a connection aliased `page` (optionally under `node`) for at
// most max pages and returns its nodes.
export async function pages(query, variables, max = 10) {
  const out = [];
  let after = null;
  for (let i = 0; i < max; i++) {
    const d = await gql(query, { ...variables, after });
    const page = d.page || d.node?.page;
    if (!page) break;
    out.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage) break;
    after = page.pageInfo.endCursor;
  }
  return out;
}

// subscribeFeed follows a subscription whose variable `after` is a feed
// cursor. After any disconnect it reconnects with `after` set to the last
// cursor received, so nothing is missed and nothing repeats; onStatus gets
// "connecting", "live" or "reconnecting". Returns a function that stops it.
export function subscribeFeed({ query, after, onItem, onStatus, field }) {
  let last = after;
  let stopped = false;
  let client = null;
  let attempt = 0;
  let timer = null;

  const connect = () => {
    if (stopped) return;
    onStatus(attempt ? 'reconnecting' : 'connecting');
    client = createClient({
      url: wsURL(),
      lazy: false,
      retryAttempts: 0, // we resubscribe ourselves, from the newest cursor
      connectionParams: async () => ({ Authorization: `Bearer ${await accessToken()}` }),
      on: { connected: () => { attempt = 0; onStatus('live'); } },
    });
    const c = client;
    c.subscribe({ query, variables: { after: last ?? null } }, {
      next: (r) => {
        if (r.errors?.length) {
          if (r.errors[0]?.extensions?.code === 'FEED_CURSOR_EXPIRED') last = null; // start live; the list reloads
          return;
        }
        const item = r.data?.[field];
        if (!item) return;
        if (last != null && BigInt(item.cursor) <= BigInt(last)) return; // never twice
        last = item.cursor;
        onItem(item);
      },
      error: () => retry(c),
      complete: () => retry(c),
    });
  };
  const retry = (c) => {
    c.dispose();
    if (stopped || c !== client) return;
    attempt++;
    onStatus('reconnecting');
    timer = setTimeout(connect, Math.min(250 * 2 ** Math.min(attempt - 1, 3), 2000));
  };
  connect();
  return () => {
    stopped = true;
    clearTimeout(timer);
    if (client) client.dispose();
  };
}
