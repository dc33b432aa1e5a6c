//! Webhook deliveries as they arrive from the internet: a provider chosen
//! by the first byte, headers and body from the rest. Half the inputs are
//! signed with the right key, so the payload parsers behind the signature
//! check are reached too; the rest exercise the signature parsing itself.
#![no_main]

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use hmac::{Hmac, Mac};
use libfuzzer_sys::fuzz_target;
use mortar::databricks::Secret;
use mortar::server::webhook::{self, Provider};
use sha2::Sha256;

const KEY: &str = "fuzz-webhook-key";

fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(KEY.as_bytes()).unwrap();
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let provider = Provider::ALL[usize::from(selector & 0x07) % Provider::ALL.len()];
    let signed = selector & 0x80 != 0;
    // `event\nid\nsignature\nbody`: the first three lines are header values.
    let mut parts = rest.splitn(4, |b| *b == b'\n');
    let event = parts.next().unwrap_or_default();
    let id = parts.next().unwrap_or_default();
    let claimed = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let mut headers = HeaderMap::new();
    let mut put = |name: &'static str, value: &[u8]| {
        if let Ok(value) = HeaderValue::from_bytes(value) {
            headers.insert(HeaderName::from_static(name), value);
        }
    };
    let signature = if signed {
        sign(body).into_bytes()
    } else {
        claimed.to_vec()
    };
    let prefixed = [b"sha256=".as_slice(), &signature].concat();
    match provider {
        Provider::Github => {
            put("x-github-event", event);
            put("x-github-delivery", id);
            put("x-hub-signature-256", &prefixed);
        }
        Provider::Gitlab => {
            put("x-gitlab-event", event);
            put("x-gitlab-event-uuid", id);
            put(
                "x-gitlab-token",
                if signed { KEY.as_bytes() } else { claimed },
            );
        }
        Provider::Gitea => {
            put("x-gitea-event", event);
            put("x-gitea-delivery", id);
            put("x-gitea-signature", &signature);
        }
        Provider::Bitbucket => {
            put("x-event-key", event);
            put("x-request-uuid", id);
            put("x-hub-signature", &prefixed);
        }
        Provider::Generic => {
            put("x-mortar-delivery", id);
            put("x-mortar-signature", &prefixed);
        }
    }
    let _ = webhook::parse(provider, &headers, body, &Secret::new(KEY));
});
