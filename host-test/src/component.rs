//! Loading the component once and calling it in a fresh instance per call.

use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use get_totp_code::host_error_json;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::error::Context;
use wasmtime::{Engine, Result, Store};

use crate::audit::{self, Audit, Finished, Operation};
use crate::bindings::{CallState, GetTotpCode, GetTotpCodePre};
use crate::call::Call;
use crate::memory::MemoryDirectory;
use crate::sandbox::{self, CallError, CallLimiter, SandboxConfig};
use crate::store_key::StoreKey;
use crate::validity;

/// The compiled component, ready to instantiate. Share it across threads
/// (`&TotpTool` is all a call needs): every call gets its own store and
/// instance, with its own memory cap and deadline, so no state and no
/// failure carries over from one call to the next.
///
/// Every constructor takes the tool's [`Audit`]: where each call's event is
/// recorded, or [`Audit::Off`], so that a tool without an audit trail is
/// always a choice written in the embedder's code.
pub struct TotpTool {
    engine: Engine,
    pre: GetTotpCodePre<CallState>,
    config: SandboxConfig,
    audit: Audit,
}

impl TotpTool {
    /// Compiles the component embedded in this crate, with default limits.
    pub fn new(audit: Audit) -> Result<Self> {
        Self::with_config(SandboxConfig::default(), audit)
    }

    /// Compiles the embedded component with `config`.
    pub fn with_config(config: SandboxConfig, audit: Audit) -> Result<Self> {
        let engine = Self::engine(&config)?;
        let component = Component::new(&engine, crate::artifact::COMPONENT_BYTES)
            .context("compiling the get_totp_code component")?;
        Self::from_component(engine, &component, config, audit)
    }

    /// Loads the embedded component from a precompiled copy in `cache_dir`
    /// that verifies under `key` (see [`crate::cache`]), compiling and
    /// storing it there first when there is none for this component,
    /// wasmtime version and configuration, or when it does not verify.
    pub fn cached(
        cache_dir: &Path,
        key: &StoreKey,
        config: SandboxConfig,
        audit: Audit,
    ) -> Result<Self> {
        let engine = Self::engine(&config)?;
        let component = crate::cache::load_or_compile(&engine, cache_dir, key)?;
        Self::from_component(engine, &component, config, audit)
    }

    /// An engine set up for `config`, whose epoch advances on its own.
    pub fn engine(config: &SandboxConfig) -> Result<Engine> {
        Self::engine_from(&config.engine_config())
    }

    /// An engine from a wasmtime configuration that started as
    /// [`SandboxConfig::engine_config`] and was adjusted (a profiler, say),
    /// whose epoch advances on its own.
    pub fn engine_from(wasmtime_config: &wasmtime::Config) -> Result<Engine> {
        let engine = Engine::new(wasmtime_config).context("creating the wasmtime engine")?;
        sandbox::start_epoch_ticker(&engine);
        Ok(engine)
    }

    /// Links a loaded component against the host imports. Only the three
    /// imports of the WIT world are defined, so a component that asks for
    /// anything else fails here, before any call.
    pub fn from_component(
        engine: Engine,
        component: &Component,
        config: SandboxConfig,
        audit: Audit,
    ) -> Result<Self> {
        let mut linker = Linker::<CallState>::new(&engine);
        GetTotpCode::add_to_linker::<_, HasSelf<_>>(&mut linker, |state| state)
            .context("defining the host imports")?;
        let instance_pre = linker
            .instantiate_pre(component)
            .context("linking the component against the host imports")?;
        let pre = GetTotpCodePre::new(instance_pre)
            .context("checking the component's exports against the WIT world")?;
        Ok(TotpTool {
            engine,
            pre,
            config,
            audit,
        })
    }

    pub fn wasmtime_engine(&self) -> &Engine {
        &self.engine
    }

    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// Where this tool's calls are recorded.
    pub fn audit(&self) -> &Audit {
        &self.audit
    }

    /// `get-totp-code(username)` in a fresh instance. `Err` only when the
    /// call itself failed (trap, limit, deadline) or its audit event could
    /// not be recorded; its text is safe to show.
    pub fn try_get_totp_code(&self, call: &Call, username: &str) -> Result<String, CallError> {
        self.audited(call, Operation::GetTotpCode, username, |tool, store| {
            tool.call_get_totp_code(store, username)
        })
    }

    /// `invoke(arguments)` in a fresh instance.
    pub fn try_invoke(&self, call: &Call, arguments: &str) -> Result<String, CallError> {
        let requested = match self.audit {
            Audit::Off => String::new(),
            Audit::To(_) => audit::requested_by_arguments(arguments),
        };
        self.audited(call, Operation::Invoke, &requested, |tool, store| {
            tool.call_invoke(store, arguments)
        })
    }

    /// `describe()`: the tool definition to register with an LLM. It reads
    /// nothing, so it runs against an empty directory, and is not audited.
    pub fn describe(&self) -> Result<String, CallError> {
        let call = Call::new(Arc::new(MemoryDirectory::default()));
        self.with_instance(&call, |tool, store| tool.call_describe(store))
            .0
    }

    /// The tool's JSON result for `get-totp-code(username)`; a failure of
    /// the call itself becomes a `host_error` result, so an agent always
    /// gets the shape it was promised.
    pub fn get_totp_code(&self, call: &Call, username: &str) -> String {
        self.try_get_totp_code(call, username)
            .unwrap_or_else(|error| host_error_json(&error.to_string()))
    }

    /// The tool's JSON result for `invoke(arguments)`.
    pub fn invoke(&self, call: &Call, arguments: &str) -> String {
        self.try_invoke(call, arguments)
            .unwrap_or_else(|error| host_error_json(&error.to_string()))
    }

    /// One instance kept for several calls: cheaper per call than a fresh
    /// instance, but the calls share its memory, so use it only for calls
    /// of one trust domain (one agent's burst of actions, say).
    pub fn warm_instance(&self, call: &Call) -> Result<WarmInstance, CallError> {
        let mut store = self.new_store(call);
        match self.pre.instantiate(&mut store) {
            Ok(bindings) => Ok(WarmInstance {
                store,
                bindings,
                deadline_ticks: self.config.deadline_ticks(),
                config: self.config.clone(),
                audit: self.audit.clone(),
            }),
            Err(error) => Err(CallError::from_wasmtime(
                &error,
                &store.data().limiter,
                &self.config,
            )),
        }
    }

    fn new_store(&self, call: &Call) -> Store<CallState> {
        let state = CallState {
            call: call.remembering_lookups(),
            limiter: CallLimiter::new(self.config.memory_limit),
            looked_up: None,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|state| &mut state.limiter);
        store.set_epoch_deadline(self.config.deadline_ticks());
        store
    }

    /// A call in a fresh instance, recorded when auditing is on.
    fn audited(
        &self,
        call: &Call,
        operation: Operation,
        requested: &str,
        run: impl Fn(&GetTotpCode, &mut Store<CallState>) -> wasmtime::Result<String>,
    ) -> Result<String, CallError> {
        let Audit::To(sink) = &self.audit else {
            return self.lasting(call, run).0;
        };
        let started = SystemTime::now();
        let timer = Instant::now();
        let (outcome, looked_up) = self.lasting(call, run);
        let finished = Finished {
            call,
            operation,
            requested,
            started,
            duration: timer.elapsed(),
            looked_up,
        };
        audit::record(sink.as_ref(), finished, outcome)
    }

    /// Runs `run` in a fresh instance, and again in another at the start of
    /// the next period when the code it gave expires within the call's
    /// `min_validity` (see [`validity`]): one call, one audit event.
    fn lasting(
        &self,
        call: &Call,
        run: impl Fn(&GetTotpCode, &mut Store<CallState>) -> wasmtime::Result<String>,
    ) -> (Result<String, CallError>, Option<String>) {
        let Some((pinned, now)) = validity::first_run(call) else {
            return self.with_instance(call, run);
        };
        let first = self.with_instance(&pinned, &run);
        let next = match &first.0 {
            Ok(result) => validity::second_run(call, now, result),
            Err(_) => None,
        };
        match next {
            Some(next) => self.with_instance(&next, &run),
            None => first,
        }
    }

    /// Runs `run` in a fresh instance; also returns the last username the
    /// guest looked up.
    fn with_instance<R>(
        &self,
        call: &Call,
        run: impl FnOnce(&GetTotpCode, &mut Store<CallState>) -> wasmtime::Result<R>,
    ) -> (Result<R, CallError>, Option<String>) {
        let mut store = self.new_store(call);
        let outcome = self
            .pre
            .instantiate(&mut store)
            .and_then(|tool| run(&tool, &mut store));
        let outcome = outcome
            .map_err(|error| CallError::from_wasmtime(&error, &store.data().limiter, &self.config));
        (outcome, store.data_mut().looked_up.take())
    }
}

/// An instance that serves several calls; see [`TotpTool::warm_instance`].
pub struct WarmInstance {
    store: Store<CallState>,
    bindings: GetTotpCode,
    deadline_ticks: u64,
    config: SandboxConfig,
    /// The tool's audit: a warm instance's calls are recorded like any other.
    audit: Audit,
}

impl WarmInstance {
    /// `get-totp-code(username)`; each call gets the full deadline. After a
    /// failure the instance is unusable and every later call fails too.
    pub fn try_get_totp_code(&mut self, username: &str) -> Result<String, CallError> {
        self.audited(Operation::GetTotpCode, username, |bindings, store| {
            bindings.call_get_totp_code(store, username)
        })
    }

    /// `invoke(arguments)`, like [`WarmInstance::try_get_totp_code`].
    pub fn try_invoke(&mut self, arguments: &str) -> Result<String, CallError> {
        let requested = match self.audit {
            Audit::Off => String::new(),
            Audit::To(_) => audit::requested_by_arguments(arguments),
        };
        self.audited(Operation::Invoke, &requested, |bindings, store| {
            bindings.call_invoke(store, arguments)
        })
    }

    /// `describe()` (not audited: it reads nothing).
    pub fn try_describe(&mut self) -> Result<String, CallError> {
        self.run(|bindings, store| bindings.call_describe(store))
    }

    fn audited(
        &mut self,
        operation: Operation,
        requested: &str,
        call: impl FnOnce(&GetTotpCode, &mut Store<CallState>) -> wasmtime::Result<String>,
    ) -> Result<String, CallError> {
        let Audit::To(sink) = self.audit.clone() else {
            return self.run(call);
        };
        let started = SystemTime::now();
        let timer = Instant::now();
        self.store.data_mut().looked_up = None;
        let outcome = self.run(call);
        let duration = timer.elapsed();
        let state = self.store.data_mut();
        let looked_up = state.looked_up.take();
        let finished = Finished {
            call: &state.call,
            operation,
            requested,
            started,
            duration,
            looked_up,
        };
        audit::record(sink.as_ref(), finished, outcome)
    }

    fn run(
        &mut self,
        call: impl FnOnce(&GetTotpCode, &mut Store<CallState>) -> wasmtime::Result<String>,
    ) -> Result<String, CallError> {
        self.store.set_epoch_deadline(self.deadline_ticks);
        call(&self.bindings, &mut self.store).map_err(|error| {
            CallError::from_wasmtime(&error, &self.store.data().limiter, &self.config)
        })
    }
}
