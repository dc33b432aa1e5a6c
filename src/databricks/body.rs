//! Reading an HTTP response body under a cap: a declared `Content-Length`
//! above the cap fails before anything is read, and the body is read as a
//! stream that stops at the cap, so no server can make Mortar buffer more.

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The body (declared or as read so far) is larger than `limit` bytes.
    #[error("the answer is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    /// The connection failed while reading.
    #[error(transparent)]
    Transport(reqwest::Error),
}

impl BodyError {
    /// A short, bounded label for metrics and logs.
    pub fn metric_label(&self) -> &'static str {
        match self {
            BodyError::TooLarge { .. } => "too_large",
            BodyError::Transport(_) => "transport",
        }
    }
}

/// The whole body of `resp`, at most `limit` bytes.
pub async fn read_capped(resp: reqwest::Response, limit: u64) -> Result<Vec<u8>, BodyError> {
    if resp.content_length().is_some_and(|len| len > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    read(resp, limit, false).await
}

/// The first `limit` bytes of the body of `resp` (the rest is dropped):
/// for error answers, where the beginning says enough.
pub async fn read_truncated(resp: reqwest::Response, limit: u64) -> Result<Vec<u8>, BodyError> {
    read(resp, limit, true).await
}

async fn read(
    mut resp: reqwest::Response,
    limit: u64,
    truncate: bool,
) -> Result<Vec<u8>, BodyError> {
    let hint = resp.content_length().unwrap_or(0).min(limit).min(1 << 20);
    let mut out = Vec::with_capacity(hint as usize);
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        let room = limit.saturating_sub(out.len() as u64);
        if chunk.len() as u64 > room {
            if truncate {
                out.extend_from_slice(&chunk[..room as usize]);
                return Ok(out);
            }
            return Err(BodyError::TooLarge { limit });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn server(body: &'static [u8]) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            while let Ok((mut s, _)) = listener.accept().await {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf).await;
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n")
                    .await;
                let _ = s.write_all(body).await;
            }
        });
        format!("http://{addr}/")
    }

    #[tokio::test]
    async fn a_body_is_read_up_to_its_cap_and_no_further() {
        let url = server(b"0123456789").await;
        let get = || async { reqwest::get(&url).await.expect("answer") };
        assert_eq!(
            read_capped(get().await, 10).await.expect("fits"),
            b"0123456789"
        );
        let err = read_capped(get().await, 9).await.unwrap_err();
        assert!(matches!(err, BodyError::TooLarge { limit: 9 }), "{err:?}");
        assert_eq!(err.metric_label(), "too_large");
        assert_eq!(read_truncated(get().await, 4).await.expect("cut"), b"0123");
    }
}
