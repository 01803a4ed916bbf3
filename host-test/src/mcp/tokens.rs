//! Bearer tokens of the HTTP server. A token is 256 random bits, printed
//! once by `token create`; the store keeps its SHA-256 and the tool node
//! it is bound to (`mcp_tokens`, schema.sql). A stolen copy of the store
//! therefore holds no usable token, and a token names one node only.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use get_totp_code::platform::NodeRef;
use zeroize::Zeroizing;

use crate::store::{Store, StoreError, TokenRow};
use crate::util::{hex, now_rfc3339};

/// Every token starts with this, so that secret scanners and people can
/// tell one apart from other credentials.
pub const TOKEN_PREFIX: &str = "totpmcp_";

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("no randomness available: {0}")]
    Random(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A token just made: its text is shown once and then forgotten.
pub struct NewToken {
    pub token: Zeroizing<String>,
    pub row: TokenRow,
}

/// Lowercase hex SHA-256 of a token's text: what `mcp_tokens.sha256` holds.
pub fn sha256_hex(token: &str) -> String {
    crate::artifact::sha256_hex(token.as_bytes())
}

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>, TokenError> {
    let mut bytes = Zeroizing::new([0u8; N]);
    getrandom::fill(&mut bytes[..]).map_err(|e| TokenError::Random(e.to_string()))?;
    Ok(bytes)
}

/// `token create`: a fresh token bound to `node`, recorded by its hash.
pub fn create(store: &Store, node: &NodeRef, label: Option<&str>) -> Result<NewToken, TokenError> {
    let token = Zeroizing::new(format!(
        "{TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(&random::<32>()?[..])
    ));
    let id = hex(&random::<8>()?[..]);
    let row = TokenRow {
        id,
        sha256: sha256_hex(&token),
        workflow_id: node.workflow_id.clone(),
        node_id: node.node_id.clone(),
        label: label.map(str::to_owned),
        created: now_rfc3339(),
        revoked: None,
    };
    store.insert_token(&row)?;
    Ok(NewToken { token, row })
}

/// `token revoke`: whether a live token of that id was revoked.
pub fn revoke(store: &Store, id: &str) -> Result<bool, TokenError> {
    Ok(store.revoke_token(id, &now_rfc3339())?)
}

/// The live token row a presented token stands for, if any: `None` for an
/// unknown or revoked token alike (the server says no more than 401).
pub fn resolve(store: &Store, token: &str) -> Result<Option<TokenRow>, TokenError> {
    Ok(store
        .token_by_sha256(&sha256_hex(token))?
        .filter(|row| row.revoked.is_none()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_resolves_to_its_node_until_revoked_and_only_its_hash_is_kept() {
        let store = Store::in_memory().unwrap();
        let node = NodeRef::new("wf", "tool");
        let made = create(&store, &node, Some("laptop")).unwrap();
        assert!(made.token.starts_with(TOKEN_PREFIX));
        // 256 bits in unpadded base64url.
        assert_eq!(made.token.len(), TOKEN_PREFIX.len() + 43);
        let listed = store.tokens().unwrap();
        assert_eq!(listed.len(), 1);
        assert_ne!(listed[0].sha256, *made.token);
        assert!(!format!("{listed:?}").contains(made.token.as_str()));
        let found = resolve(&store, &made.token).unwrap().expect("live token");
        assert_eq!(
            (found.workflow_id.as_str(), found.node_id.as_str()),
            ("wf", "tool")
        );
        assert!(resolve(&store, "totpmcp_nope").unwrap().is_none());
        assert!(revoke(&store, &made.row.id).unwrap());
        assert!(!revoke(&store, &made.row.id).unwrap(), "already revoked");
        assert!(resolve(&store, &made.token).unwrap().is_none());
    }
}
