// A real OpenID provider for Mortar's tests: the npm package `oidc-provider`
// serving discovery, JWKS, the client-credentials grant, the authorization
// code flow with PKCE (with its own login page) and the device authorization
// grant on 127.0.0.1, issuing RS256-signed tokens.
//
// Usage: node server.mjs [PORT]      (or IDP_PORT=PORT; default 0 = any free port)
//
// The first line on stdout is the issuer URL (http://127.0.0.1:PORT). The
// process runs until killed or until its stdin closes, so a test that dies
// never leaves it behind.
//
// Client-credentials clients (secret sent with HTTP Basic):
//   mortar        / mortar-secret          access tokens valid for 300 s
//                                          (the secret is $IDP_MORTAR_SECRET when set)
//   mortar-short  / mortar-short-secret    access tokens valid for 1 s (for expiry tests)
//   mortar-ci     / mortar-ci-secret       access tokens valid for 300 s (a CI bot)
//
// Their token is a JWT whose audience is the `resource` parameter of the token
// request (RFC 8707), any absolute URI; without one it is
// `https://databricks.example/`. Its subject is the client id. So a test makes
// a wrong-audience token by asking for another resource, an expired one with
// `mortar-short`, and a wrong-issuer one by starting a second instance.
//
// People (password `<login>-password`, email `<login>@example.com`, name the
// login capitalized, e.g. Vera):
//   vera  groups ["mortar-viewers"]
//   otto  groups ["mortar-operators"]
//   ada   groups ["mortar-admins"]
//   eve   groups ["*", "mortar-*", "admin"]
//
// They sign in to:
//   mortar-web / mortar-web-secret   authorization code flow, PKCE S256 required,
//     secret with HTTP Basic or in the body, refresh tokens with `offline_access`.
//     Redirect URI: http://127.0.0.1:<any port>/auth/callback or
//     http://localhost:<any port>/auth/callback (a native client's loopback
//     redirect URIs match on any port, RFC 8252 section 7.3).
//   mortar-cli (public, no secret)   device authorization grant: the person opens
//     the `verification_uri_complete`, presses "Continue", then signs in.
//
// The login page at /interaction/<uid> has the fields `login` and `password`
// and a "Sign in" button; a wrong password shows "Wrong login or password."
// with status 401. Consent is granted without asking. Scopes: openid (sub =
// the login), email (email, email_verified), profile (name), groups (groups);
// all of them go into the ID token as well as to userinfo.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const DEFAULT_AUDIENCE = 'https://databricks.example/';
const TTL = { mortar: 300, 'mortar-short': 1, 'mortar-ci': 300 };

const GROUPS = {
  vera: ['mortar-viewers'],
  otto: ['mortar-operators'],
  ada: ['mortar-admins'],
  eve: ['*', 'mortar-*', 'admin'],
};
const PEOPLE = Object.fromEntries(Object.entries(GROUPS).map(([login, groups]) => [login, {
  password: `${login}-password`,
  claims: {
    sub: login,
    email: `${login}@example.com`,
    email_verified: true,
    name: login[0].toUpperCase() + login.slice(1),
    groups,
  },
}]));

const portArg = process.argv[2] ?? process.env.IDP_PORT ?? '0';
const port = Number.parseInt(portArg, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`server.mjs: invalid port ${JSON.stringify(portArg)}`);
  process.exit(2);
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };

const escape = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${escape(title)}</title></head>
<body><main><h1>${escape(title)}</h1>
${body}
</main></body></html>`;

function loginPage(uid, { login = '', error } = {}) {
  return page('Sign in to the test IdP', `${error ? `<p role="alert">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<p><label for="login">Login</label> <input id="login" name="login" autocomplete="username" value="${escape(login)}" required autofocus></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password" required></p>
<p><button type="submit">Sign in</button></p>
</form>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

// The login page: GET /interaction/<uid> shows it, POST /interaction/<uid>/login
// checks the password and finishes the interaction only when it is right. A
// consent interaction finishes at once.
async function interaction(provider, req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'consent') {
    // Native clients must come back here for consent; loadExistingGrant has granted it.
    await provider.interactionFinished(req, res, { consent: {} });
  } else if (details.prompt.name !== 'login') {
    send(res, 400, page('Unsupported interaction', `<p>${escape(details.prompt.name)}</p>`));
  } else if (req.method === 'GET' && !action) {
    send(res, 200, loginPage(uid));
  } else if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const login = form.get('login') ?? '';
    if (!Object.hasOwn(PEOPLE, login) || PEOPLE[login].password !== form.get('password')) {
      send(res, 401, loginPage(uid, { login, error: 'Wrong login or password.' }));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: login } }, { mergeWithLastSubmission: false });
  } else {
    send(res, 405, page('Method not allowed', ''));
  }
}

const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const { port: actual } = server.address();
  const issuer = `http://127.0.0.1:${actual}`;

  const provider = new Provider(issuer, {
    clients: [
      ...Object.keys(TTL).map((id) => ({
        client_id: id,
        client_secret: (id === 'mortar' && process.env.IDP_MORTAR_SECRET) || `${id}-secret`,
        grant_types: ['client_credentials'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      })),
      {
        client_id: 'mortar-web',
        client_secret: 'mortar-web-secret',
        application_type: 'native',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/auth/callback', 'http://localhost/auth/callback'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'RS256',
      },
      {
        client_id: 'mortar-cli',
        application_type: 'native',
        grant_types: ['urn:ietf:params:oauth:grant-type:device_code', 'refresh_token'],
        redirect_uris: [],
        response_types: [],
        token_endpoint_auth_method: 'none',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: {
      keys: [randomBytes(32).toString('hex')],
      // Cookies ignore ports: names of its own keep these apart from the relying party's.
      names: { session: 'idp_session', interaction: 'idp_interaction', resume: 'idp_interaction_resume' },
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false,
    findAccount: (_ctx, sub) => PEOPLE[sub] && {
      accountId: sub,
      claims: async () => PEOPLE[sub].claims,
    },
    // Consent without asking: the grant covers whatever was requested.
    loadExistingGrant: async (ctx) => {
      const { client, session, params } = ctx.oidc;
      const grantId = ctx.oidc.result?.consent?.grantId || session.grantIdFor(client.clientId);
      const grant = (grantId && await ctx.oidc.provider.Grant.find(grantId))
        || new ctx.oidc.provider.Grant({ clientId: client.clientId, accountId: session.accountId });
      grant.addOIDCScope(String(params.scope ?? 'openid'));
      for (const [resource, { scope }] of Object.entries(ctx.oidc.resourceServers ?? {})) grant.addResourceScope(resource, scope);
      await grant.save();
      return grant;
    },
    pkce: { required: () => true },
    interactions: { url: (_ctx, i) => `/interaction/${i.uid}` },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      deviceFlow: {
        enabled: true,
        userCodeInputSource: (ctx, form, _out, err) => {
          ctx.body = page('Device sign-in', `${err ? '<p role="alert">The code is wrong or has expired.</p>' : ''}
${form}<p><button type="submit" form="op.deviceInputForm">Continue</button></p>`);
        },
        userCodeConfirmSource: (ctx, form, client, _info, userCode) => {
          ctx.body = page('Confirm device', `<p>${escape(client.clientId)} shows the code <code>${escape(userCode)}</code>.</p>
${form}<p><button type="submit" form="op.deviceConfirmForm">Continue</button></p>`);
        },
        successSource: (ctx) => {
          ctx.body = page('Device signed in', '<p>You can close this page.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        // Only the client-credentials clients' tokens default to an audience;
        // the people's access tokens stay opaque, for userinfo.
        defaultResource: (_ctx, client) => (client.grantTypeAllowed('client_credentials') ? DEFAULT_AUDIENCE : undefined),
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resourceIndicator, client) => ({
          scope: 'all-apis openid',
          audience: resourceIndicator,
          accessTokenTTL: TTL[client.clientId] ?? 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
  });
  // Plain http on loopback: tell the provider it is not behind a proxy.
  provider.proxy = false;
  provider.on('server_error', (_ctx, err) => console.error('idp server_error:', err));

  const callback = provider.callback();
  server.on('request', (req, res) => {
    const m = /^\/interaction\/([\w-]+)(?:\/(\w+))?$/.exec(new URL(req.url, issuer).pathname);
    if (!m) {
      callback(req, res);
      return;
    }
    interaction(provider, req, res, m[1], m[2]).catch((err) => {
      if (!res.headersSent) send(res, 400, page('Sign-in failed', `<p role="alert">${escape(err.message)}</p>`));
    });
  });
  console.log(issuer);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
