//! The sandbox every call runs in: engine settings, a memory cap, a deadline,
//! and the translation of a guest's failure into the tool's error result.

use std::time::Duration;

use wasmtime::{
    Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, ResourceLimiter, Trap,
};

/// How often the engine's epoch advances; the deadline's granularity.
pub const EPOCH_TICK: Duration = Duration::from_millis(5);

/// Limits and allocation strategy for the tool's calls.
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Linear memory one call may use. The component needs well under
    /// 200 KiB for an ordinary call (see host-test/docs/performance.md).
    pub memory_limit: usize,
    /// Wall-clock time one call may run guest code before it is stopped.
    pub deadline: Duration,
    /// Keep instance slots pre-reserved and reuse them (much cheaper
    /// per-call instantiation) instead of mapping memory per call.
    pub pooling: bool,
    /// Calls that may be in flight at once when pooling.
    pub max_concurrent_calls: u32,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        SandboxConfig {
            memory_limit: 4 << 20,
            deadline: Duration::from_secs(1),
            pooling: true,
            max_concurrent_calls: 256,
        }
    }
}

impl SandboxConfig {
    /// The wasmtime configuration for these limits.
    pub fn engine_config(&self) -> Config {
        let mut config = Config::new();
        config.epoch_interruption(true);
        // Traps carry no guest backtrace: nothing here needs one, and
        // capturing it costs time on every trap.
        config.wasm_backtrace_max_frames(None);
        if self.pooling {
            let mut pool = PoolingAllocationConfig::default();
            let slots = self.max_concurrent_calls.max(1);
            pool.total_component_instances(slots)
                // wit-component lays the tool out as three core instances
                // (the guest, the shim whose table stands in for the
                // imports, the fix-up that fills it) and two tables; the
                // room above that is for components laid out otherwise.
                .total_core_instances(slots * 4)
                .total_memories(slots)
                .total_tables(slots * 2)
                .max_memory_size(self.memory_limit)
                // Reset a freed slot's pages with memset rather than
                // madvise, so the next call does not page-fault them in.
                .linear_memory_keep_resident(128 << 10)
                .table_keep_resident(4 << 10);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        config
    }

    /// Number of epoch ticks that make up the deadline (at least one).
    pub fn deadline_ticks(&self) -> u64 {
        (self.deadline.as_nanos() / EPOCH_TICK.as_nanos()).max(1) as u64 + 1
    }
}

/// Advances `engine`'s epoch every [`EPOCH_TICK`] on a background thread
/// until the engine is dropped.
pub fn start_epoch_ticker(engine: &Engine) {
    let weak = engine.weak();
    std::thread::Builder::new()
        .name("totp-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawning the epoch thread");
}

/// A store's memory cap that remembers whether the guest hit it, so that
/// the resulting trap can be reported as what it is.
pub struct CallLimiter {
    memory_limit: usize,
    exceeded: bool,
}

impl CallLimiter {
    pub fn new(memory_limit: usize) -> Self {
        CallLimiter {
            memory_limit,
            exceeded: false,
        }
    }

    pub fn exceeded(&self) -> bool {
        self.exceeded
    }
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_limit {
            self.exceeded = true;
            // Trap rather than let memory.grow return -1: a guest that
            // cannot allocate has nothing better to do, and this says why.
            wasmtime::bail!(
                "the component exceeded its memory limit of {} bytes",
                self.memory_limit
            );
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 10_000)
    }
}

/// Why a call produced no result. `Display` is the text the agent gets in
/// the `host_error` result.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    #[error("the tool exceeded its deadline of {} ms", .0.as_millis())]
    Deadline(Duration),
    #[error("the tool exceeded its memory limit of {} KiB", .0 >> 10)]
    MemoryLimit(usize),
    #[error("the tool trapped: {0}")]
    Trap(Trap),
    /// Anything else wasmtime reported (a malformed result, a link error).
    #[error("the tool failed: {0}")]
    Other(String),
    /// Auditing is on and the call's event could not be recorded, so its
    /// result is withheld (fail closed).
    #[error("audit log unavailable")]
    AuditUnavailable(#[source] crate::audit::AuditError),
}

impl CallError {
    /// Classifies a failed call; `limiter` tells a memory-cap trap apart.
    pub fn from_wasmtime(
        error: &wasmtime::Error,
        limiter: &CallLimiter,
        config: &SandboxConfig,
    ) -> Self {
        if limiter.exceeded() {
            return CallError::MemoryLimit(config.memory_limit);
        }
        match error.downcast_ref::<Trap>() {
            Some(Trap::Interrupt) => CallError::Deadline(config.deadline),
            Some(trap) => CallError::Trap(*trap),
            None => CallError::Other(format!("{error:#}")),
        }
    }
}
