//! Stable node identities.

use std::fmt;

use serde::{Deserialize, Serialize};

/// A node's id: a short name unique within its scene (`"bg"`, `"key"`, `"scope"`).
///
/// Ids are what edges, errors and the editor refer to, so they are stable across saves. New ids
/// come from [`crate::Show::fresh_id`], which never hands out an id that was used before.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct NodeId(pub String);

impl NodeId {
    pub fn new(s: impl Into<String>) -> Self {
        NodeId(s.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for NodeId {
    fn from(s: &str) -> Self {
        NodeId(s.to_owned())
    }
}
