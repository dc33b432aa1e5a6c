//! Reading an HTTP response body under a cap: a declared `Content-Length`
//! above the cap fails before anything is read, and the body is read as a
//! stream that stops at the cap, so no server can make Mortar buffer more.

/// Why a body could not be read.
#[derive(Debug)]
pub enum BodyError {
    /// The body (declared or as read so far) is larger than `limit` bytes.
    TooLarge { limit: u64 },
    /// The connection failed while reading.
    Transport(reqwest::Error),
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
