//! Errors of the Scope client. Every variant names the URL (or file) it concerns, so a log line
//! alone tells the operator which server or asset misbehaved.

use std::path::PathBuf;
use std::time::Duration;

/// Everything that can go wrong talking to a Scope server.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    /// The base URL given in the config is not usable.
    #[error("bad Scope URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    /// TCP connect failed (server down, wrong port, refused).
    #[error("{method} {url}: cannot connect: {reason}")]
    Connect {
        method: &'static str,
        url: String,
        reason: String,
    },
    /// The request did not complete in time.
    #[error("{method} {url}: no answer within {timeout:?}")]
    Timeout {
        method: &'static str,
        url: String,
        timeout: Duration,
    },
    /// Any other transport failure (reset connection, truncated body...).
    #[error("{method} {url}: {reason}")]
    Transport {
        method: &'static str,
        url: String,
        reason: String,
    },
    /// The server answered with a non-success status. `detail` is FastAPI's `detail`
    /// (string, or a rendered 422 list), or a snippet of the body when it has none.
    #[error("{method} {url}: HTTP {status}: {detail}")]
    Status {
        method: &'static str,
        url: String,
        status: u16,
        detail: String,
    },
    /// A JSON answer was expected but the content type says otherwise.
    #[error("{method} {url}: expected JSON, got content type {content_type:?}: {snippet}")]
    ContentType {
        method: &'static str,
        url: String,
        content_type: String,
        snippet: String,
    },
    /// The body claimed to be JSON but did not parse into the expected shape.
    #[error("{method} {url}: malformed JSON answer ({reason}): {snippet}")]
    BadJson {
        method: &'static str,
        url: String,
        reason: String,
        snippet: String,
    },
    /// Pipeline loading failed (`loading` → `error`/`not_loaded`), or never finished.
    #[error("{url}: pipeline {pipeline:?} failed to load: {reason}")]
    LoadFailed {
        url: String,
        pipeline: String,
        reason: String,
    },
    /// Model download failed or stalled.
    #[error("{url}: model download for {pipeline:?} failed: {reason}")]
    ModelDownload {
        url: String,
        pipeline: String,
        reason: String,
    },
    /// A local file (reference image) could not be read or has an extension Scope rejects.
    #[error("asset {}: {reason}", path.display())]
    Asset { path: PathBuf, reason: String },
    /// The SDP answer could not be applied.
    #[error("{url}: bad SDP answer: {reason}")]
    BadSdp { url: String, reason: String },
    /// Local WebRTC machinery failed (peer connection, ICE gathering, data channel).
    #[error("WebRTC ({url}): {reason}")]
    Webrtc { url: String, reason: String },
    /// A codec could not be created or failed on a frame.
    #[error("codec: {0}")]
    Codec(String),
}

/// Result alias for this crate.
pub type Result<T, E = ScopeError> = std::result::Result<T, E>;

/// Renders FastAPI's `detail`: a string stays as is; a 422 list becomes
/// `body.prompts.0.weight: Input should be ... (got -1); ...`.
pub fn render_detail(detail: &serde_json::Value) -> String {
    match detail {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Array(items) => {
            let parts: Vec<String> = items
                .iter()
                .map(|item| {
                    let loc = item
                        .get("loc")
                        .and_then(|l| l.as_array())
                        .map(|l| {
                            l.iter()
                                .map(|p| match p {
                                    serde_json::Value::String(s) => s.clone(),
                                    other => other.to_string(),
                                })
                                .collect::<Vec<_>>()
                                .join(".")
                        })
                        .unwrap_or_default();
                    let msg = item
                        .get("msg")
                        .and_then(|m| m.as_str())
                        .unwrap_or("invalid");
                    let input = item
                        .get("input")
                        .map(|i| format!(" (got {})", snippet(&i.to_string())))
                        .unwrap_or_default();
                    if loc.is_empty() {
                        format!("{msg}{input}")
                    } else {
                        format!("{loc}: {msg}{input}")
                    }
                })
                .collect();
            if parts.is_empty() {
                "validation failed".to_owned()
            } else {
                parts.join("; ")
            }
        }
        other => snippet(&other.to_string()),
    }
}

/// First 200 characters of a body, for error messages.
pub fn snippet(text: &str) -> String {
    let trimmed = text.trim();
    let mut out: String = trimmed.chars().take(200).collect();
    if trimmed.chars().count() > 200 {
        out.push('…');
    }
    if out.is_empty() {
        "<empty body>".to_owned()
    } else {
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_422_list() {
        let d = serde_json::json!([
            {"type":"greater_than_equal","loc":["body","prompts",0,"weight"],"msg":"Input should be greater than or equal to 0","input":-1.0},
            {"type":"missing","loc":["body","sdp"],"msg":"Field required"}
        ]);
        assert_eq!(
            render_detail(&d),
            "body.prompts.0.weight: Input should be greater than or equal to 0 (got -1.0); body.sdp: Field required"
        );
    }

    #[test]
    fn renders_string_detail() {
        let d = serde_json::json!("Pipeline not loaded. Please load pipeline first.");
        assert_eq!(
            render_detail(&d),
            "Pipeline not loaded. Please load pipeline first."
        );
    }
}
