//! wasmtime's floor: what a fresh sandboxed call costs before the tool does
//! anything. The bench times this next to the real component so that the
//! part of a call spent in wasmtime itself is a measured figure, not an
//! inference from a profile.
//!
//! The floor component is the least a string-in, string-out export needs:
//! one core module with one 64 KiB page (the guest's initial memory), a
//! bump `cabi_realloc`, no imports, and an export that answers a constant
//! from a data segment. It runs under the same engine, pool, memory cap and
//! deadline as the tool's calls.

use wasmtime::component::{Component, InstancePre, Linker, TypedFunc};
use wasmtime::{Engine, Result, Store};

use totp_host::{CallLimiter, SandboxConfig};

pub const FLOOR_WAT: &str = r#"
(component
  (core module $m
    (memory (export "memory") 1)
    (global $bump (mut i32) (i32.const 1024))
    (data (i32.const 16) "{\"success\":false}")
    (func (export "cabi_realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (global.get $bump))
      (global.set $bump (i32.add (local.get $at) (local.get 3)))
      (local.get $at))
    (func (export "get-totp-code") (param i32 i32) (result i32)
      ;; The argument is not read: free it, so a warm instance does not
      ;; run out of its one page.
      (global.set $bump (i32.const 1024))
      (i32.store (i32.const 0) (i32.const 16))
      (i32.store (i32.const 4) (i32.const 17))
      (i32.const 0)))
  (core instance $i (instantiate $m))
  (func (export "get-totp-code") (param "username" string) (result string)
    (canon lift (core func $i "get-totp-code")
      (memory (core memory $i "memory"))
      (realloc (core func $i "cabi_realloc")))))
"#;

/// What the floor component answers (its data segment).
pub const ANSWER: &str = r#"{"success":false}"#;

type Export = TypedFunc<(&'static str,), (String,)>;

/// The floor component, linked once, instantiated fresh per call.
pub struct Floor {
    engine: Engine,
    pre: InstancePre<CallLimiter>,
    config: SandboxConfig,
}

impl Floor {
    /// Compiles the floor component for `engine` (the tool's own engine).
    pub fn new(engine: &Engine, config: &SandboxConfig) -> Result<Self> {
        Self::with_component(engine, &Component::new(engine, FLOOR_WAT)?, config)
    }

    /// The floor from its compiled form (a precompiled copy, say).
    pub fn with_component(
        engine: &Engine,
        component: &Component,
        config: &SandboxConfig,
    ) -> Result<Self> {
        let pre = Linker::new(engine).instantiate_pre(component)?;
        Ok(Floor {
            engine: engine.clone(),
            pre,
            config: config.clone(),
        })
    }

    /// A store set up as the tool sets up each call's: memory cap, deadline.
    fn store(&self) -> Store<CallLimiter> {
        let mut store = Store::new(&self.engine, CallLimiter::new(self.config.memory_limit));
        store.limiter(|limiter| limiter);
        store.set_epoch_deadline(self.config.deadline_ticks());
        store
    }

    fn export(&self, store: &mut Store<CallLimiter>) -> Result<Export> {
        let instance = self.pre.instantiate(&mut *store)?;
        instance.get_typed_func(&mut *store, "get-totp-code")
    }

    /// One call in a fresh store and instance, dropped afterwards.
    pub fn fresh_call(&self, username: &'static str) -> Result<String> {
        let mut store = self.store();
        let export = self.export(&mut store)?;
        Ok(export.call(&mut store, (username,))?.0)
    }

    /// An instance kept for [`WarmFloor::call`].
    pub fn warm(&self) -> Result<WarmFloor> {
        let mut store = self.store();
        let export = self.export(&mut store)?;
        Ok(WarmFloor { store, export })
    }
}

/// The floor component's instance, called again and again.
pub struct WarmFloor {
    store: Store<CallLimiter>,
    export: Export,
}

impl WarmFloor {
    pub fn call(&mut self, username: &'static str) -> Result<String> {
        Ok(self.export.call(&mut self.store, (username,))?.0)
    }
}
