//! A directory that counts the lookups it forwards: the queries-per-call
//! figure of `bench-stores`, measured from outside the store so that the
//! product's store carries no counter.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use totp_host::{Directory, HostError, User};

/// Forwards every lookup to `inner` (each is one store query) and counts it.
pub struct CountingDirectory<D> {
    inner: Arc<D>,
    lookups: AtomicU64,
}

impl<D: Directory> CountingDirectory<D> {
    pub fn new(inner: Arc<D>) -> Self {
        CountingDirectory {
            inner,
            lookups: AtomicU64::new(0),
        }
    }

    /// Lookups forwarded so far.
    pub fn lookups(&self) -> u64 {
        self.lookups.load(Ordering::Relaxed)
    }

    fn count(&self) {
        self.lookups.fetch_add(1, Ordering::Relaxed);
    }
}

impl<D: Directory> Directory for CountingDirectory<D> {
    fn find_user(&self, username: &str) -> Result<Option<User>, HostError> {
        self.count();
        self.inner.find_user(username)
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, HostError> {
        self.count();
        self.inner.workflow_slug(workflow_id)
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, HostError> {
        self.count();
        self.inner.edge_targets(workflow_id, source_node_id, label)
    }
}
