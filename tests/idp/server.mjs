// A real OpenID provider for Mortar's federation tests: the npm package
// `oidc-provider` serving discovery, JWKS and the client-credentials grant on
// 127.0.0.1, issuing RS256-signed JWT access tokens.
//
// Usage: node server.mjs [PORT]      (or IDP_PORT=PORT; default 0 = any free port)
//
// The first line on stdout is the issuer URL (http://127.0.0.1:PORT). The
// process runs until killed or until its stdin closes, so a test that dies
// never leaves it behind.
//
// Clients (all use the client-credentials grant, secret sent with HTTP Basic):
//   mortar        / mortar-secret          access tokens valid for 300 s
//                                          (the secret is $IDP_MORTAR_SECRET when set)
//   mortar-short  / mortar-short-secret    access tokens valid for 1 s (for expiry tests)
//
// The token's audience is the `resource` parameter of the token request
// (RFC 8707), any absolute URI; without one it is `https://databricks.example/`.
// Its subject is the client id. So a test makes a wrong-audience token by asking
// for another resource, an expired one with `mortar-short`, and a
// wrong-issuer one by starting a second instance of this server.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import Provider from 'oidc-provider';

const DEFAULT_AUDIENCE = 'https://databricks.example/';
const TTL = { mortar: 300, 'mortar-short': 1 };

const portArg = process.argv[2] ?? process.env.IDP_PORT ?? '0';
const port = Number.parseInt(portArg, 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`server.mjs: invalid port ${JSON.stringify(portArg)}`);
  process.exit(2);
}

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), use: 'sig', alg: 'RS256' };

const server = createServer();
server.listen(port, '127.0.0.1', () => {
  const { port: actual } = server.address();
  const issuer = `http://127.0.0.1:${actual}`;

  const provider = new Provider(issuer, {
    clients: Object.entries(TTL).map(([id]) => ({
      client_id: id,
      client_secret: (id === 'mortar' && process.env.IDP_MORTAR_SECRET) || `${id}-secret`,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
    })),
    jwks: { keys: [signingKey] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => DEFAULT_AUDIENCE,
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

  server.on('request', provider.callback());
  console.log(issuer);
});

process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
