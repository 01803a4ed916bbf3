//! Lays the componentized guest out as two core instances instead of three.
//!
//! wit-component encodes a guest whose imports take strings or return lists
//! in three core instances: a shim whose table stands in for those imports
//! (their canonical lowering needs the guest's memory and `cabi_realloc`,
//! which exist only once the guest is instantiated), the guest, and a fix-up
//! module that fills the shim's table afterwards. Every fresh call pays for
//! the three instances, the table and the fix-up: with this layout instead,
//! making and dropping the tool's instance went from 6.1–6.8 to 5.4–5.8 µs
//! and a fresh call from 10.3–12.6 to 9.4–10.4 µs (best rounds of three
//! interleaved `totp-host bench` runs; host-test/benches/README.md).
//!
//! This pass rewrites wit-component's output so that the memory comes
//! first, from a small module of its own:
//!
//! 1. the **root** module defines the memory the guest would have defined,
//!    starting from the guest's data segments, and a one-slot table, and
//!    exports `realloc`, a trampoline that calls the guest's own
//!    `cabi_realloc` through that slot;
//! 2. the imports are lowered against the root's memory and `realloc`;
//! 3. the **guest**, its memory and the one-slot table imported from the
//!    root (its own function table stays its own), is instantiated with the
//!    lowered imports directly, and an element segment of its own puts
//!    `cabi_realloc` into the root's slot.
//!
//! The guest's code, its allocator and the component's types, imports and
//! exports are wit-component's, unchanged: only where the memory and the
//! data are defined, and the instances around them, differ. Anything
//! outside the shape wit-component produces for this guest stops the build
//! with a message rather than produce a component that means something
//! else.

use std::collections::HashMap;

use wasm_encoder::reencode::{self, Error as ReencodeError, Reencode, RoundtripReencoder};
use wasm_encoder::{
    Alias, CanonicalFunctionSection, CanonicalOption, CodeSection, Component,
    ComponentAliasSection, ComponentExportKind, ComponentExportSection, ComponentSectionId,
    ConstExpr, DataSection, ElementSection, Elements, EntityType, ExportKind, ExportSection,
    Function, FunctionSection, ImportSection, InstanceSection, Instruction, MemorySection, Module,
    ModuleArg, RawSection, SectionId, TableSection, TypeSection, ValType,
};
use wasmparser::{
    CanonicalFunction, ComponentAlias, ComponentExternalKind, ComponentTypeRef, ExternalKind,
    Instance, Parser, Payload, TypeRef,
};

/// Where the guest imports its memory (the name `wasm-ld --import-memory`
/// gives it) and the realloc table from: the root's instance.
const ROOT_MODULE: &str = "env";
const MEMORY: &str = "memory";
const REALLOC_TABLE_NAME: &str = "realloc-table";
/// The root's export that lifts and lowers use as their `realloc`.
const REALLOC: &str = "realloc";
/// The guest's allocation function, as wit-bindgen exports it.
const GUEST_REALLOC: &str = "cabi_realloc";

/// Rewrites a component built by wit-component into the two-instance layout.
pub fn without_shim(component: &[u8]) -> Vec<u8> {
    let parsed = ParsedComponent::parse(component);
    let rewritten = GuestModule::rewrite(parsed.modules[parsed.guest as usize]);
    let laid_out = parsed.encode(&rewritten);
    wasmparser::Validator::new()
        .validate_all(&laid_out)
        .unwrap_or_else(|e| panic!("the two-instance component does not validate: {e}"));
    laid_out
}

/// A core function of the input component, by how it was made.
enum CoreFunc<'a> {
    /// An export of a core instance.
    Alias { instance: u32, name: &'a str },
    /// A component function lowered with these options.
    Lower {
        func: u32,
        options: Vec<wasmparser::CanonicalOption>,
    },
}

/// A component-level function of the input component.
enum Func<'a> {
    /// An export of an imported instance.
    Import { instance: u32, name: &'a str },
    /// A core function lifted as the `lifts[i]` entry.
    Lift(usize),
    /// A re-export of another function.
    Export,
}

struct Lift {
    core_func: u32,
    type_index: u32,
    options: Vec<wasmparser::CanonicalOption>,
}

struct ParsedComponent<'a> {
    /// The type and import sections before the first module, raw.
    prefix: Vec<(u8, &'a [u8])>,
    /// The names of the imported instances, by instance index.
    instance_imports: Vec<&'a str>,
    /// Type sections after the modules (the exports' function types), raw.
    later_types: Vec<(u8, &'a [u8])>,
    modules: Vec<&'a [u8]>,
    /// Which of `modules` is the guest: the one that defines a memory.
    guest: u32,
    /// Core instances: `Some(module)` for an instantiation, `None` for a
    /// bundle of exports.
    core_instances: Vec<Option<u32>>,
    core_funcs: Vec<CoreFunc<'a>>,
    funcs: Vec<Func<'a>>,
    lifts: Vec<Lift>,
    exports: Vec<(&'a str, u32)>,
    customs: Vec<(u8, &'a [u8])>,
}

impl<'a> ParsedComponent<'a> {
    fn parse(component: &'a [u8]) -> Self {
        let mut parsed = ParsedComponent {
            prefix: Vec::new(),
            instance_imports: Vec::new(),
            later_types: Vec::new(),
            modules: Vec::new(),
            guest: 0,
            core_instances: Vec::new(),
            core_funcs: Vec::new(),
            funcs: Vec::new(),
            lifts: Vec::new(),
            exports: Vec::new(),
            customs: Vec::new(),
        };
        // Payloads of nested modules are skipped: a module is kept whole.
        let mut nested = 0usize;
        for payload in Parser::new(0).parse_all(component) {
            let payload = payload.unwrap_or_else(|e| panic!("reading the component: {e}"));
            if nested > 0 {
                match payload {
                    Payload::End(_) => nested -= 1,
                    Payload::ModuleSection { .. } | Payload::ComponentSection { .. } => nested += 1,
                    _ => {}
                }
                continue;
            }
            let raw = payload
                .as_section()
                .map(|(id, range)| (id, slice(component, range)));
            match payload {
                Payload::Version { .. } | Payload::End(_) => {}
                Payload::ComponentTypeSection(_) if parsed.modules.is_empty() => {
                    parsed.prefix.push(raw.unwrap())
                }
                Payload::ComponentTypeSection(_) => parsed.later_types.push(raw.unwrap()),
                Payload::ComponentImportSection(reader) => {
                    assert!(
                        parsed.modules.is_empty(),
                        "{UNEXPECTED}: an import after a module"
                    );
                    for import in reader {
                        let import = import.unwrap();
                        match import.ty {
                            ComponentTypeRef::Instance(_) => {
                                parsed.instance_imports.push(import.name.name)
                            }
                            _ => panic!(
                                "{UNEXPECTED}: the import {:?} is not an instance",
                                import.name.name
                            ),
                        }
                    }
                    parsed.prefix.push(raw.unwrap());
                }
                Payload::ModuleSection {
                    unchecked_range, ..
                } => {
                    parsed.modules.push(slice(component, unchecked_range));
                    nested += 1;
                }
                Payload::InstanceSection(reader) => {
                    for instance in reader {
                        parsed.core_instances.push(match instance.unwrap() {
                            Instance::Instantiate { module_index, .. } => Some(module_index),
                            Instance::FromExports(_) => None,
                        });
                    }
                }
                Payload::ComponentAliasSection(reader) => {
                    for alias in reader {
                        match alias.unwrap() {
                            ComponentAlias::InstanceExport {
                                kind: ComponentExternalKind::Func,
                                instance_index,
                                name,
                            } => parsed.funcs.push(Func::Import {
                                instance: instance_index,
                                name,
                            }),
                            ComponentAlias::CoreInstanceExport {
                                kind: ExternalKind::Func,
                                instance_index,
                                name,
                            } => parsed.core_funcs.push(CoreFunc::Alias {
                                instance: instance_index,
                                name,
                            }),
                            // The memory and the shim's table: replaced.
                            ComponentAlias::CoreInstanceExport {
                                kind: ExternalKind::Memory | ExternalKind::Table,
                                ..
                            } => {}
                            other => panic!("{UNEXPECTED}: the alias {other:?}"),
                        }
                    }
                }
                Payload::ComponentCanonicalSection(reader) => {
                    for function in reader {
                        match function.unwrap() {
                            CanonicalFunction::Lower {
                                func_index,
                                options,
                            } => parsed.core_funcs.push(CoreFunc::Lower {
                                func: func_index,
                                options: options.into_vec(),
                            }),
                            CanonicalFunction::Lift {
                                core_func_index,
                                type_index,
                                options,
                            } => {
                                parsed.funcs.push(Func::Lift(parsed.lifts.len()));
                                parsed.lifts.push(Lift {
                                    core_func: core_func_index,
                                    type_index,
                                    options: options.into_vec(),
                                });
                            }
                            other => panic!("{UNEXPECTED}: the canonical function {other:?}"),
                        }
                    }
                }
                Payload::ComponentExportSection(reader) => {
                    for export in reader {
                        let export = export.unwrap();
                        let plain = wasmparser::ComponentExternName {
                            name: export.name.name,
                            implements: None,
                            version_suffix: None,
                            external_id: None,
                        };
                        assert!(
                            export.kind == ComponentExternalKind::Func
                                && export.ty.is_none()
                                && export.name == plain,
                            "{UNEXPECTED}: the export {:?}",
                            export.name.name
                        );
                        parsed.exports.push((export.name.name, export.index));
                        parsed.funcs.push(Func::Export);
                    }
                }
                // wit-component's names for the component's items describe
                // its own layout, not this one: left out.
                Payload::CustomSection(reader) if reader.name() == "component-name" => {}
                Payload::CustomSection(_) => parsed.customs.push(raw.unwrap()),
                other => panic!("{UNEXPECTED}: the section {:?}", other.as_section()),
            }
        }
        parsed.guest = guest_module(&parsed.modules);
        parsed
    }

    /// The export name of the guest's core function `index` of the input.
    fn guest_export(&self, index: u32) -> &'a str {
        match &self.core_funcs[index as usize] {
            CoreFunc::Alias { instance, name }
                if self.core_instances[*instance as usize] == Some(self.guest) =>
            {
                name
            }
            _ => panic!("{UNEXPECTED}: core function {index} is not an export of the guest"),
        }
    }

    fn encode(&self, guest: &GuestModule) -> Vec<u8> {
        let mut component = Component::new();
        for (id, data) in &self.prefix {
            component.section(&RawSection { id: *id, data });
        }
        let root = root_module(guest);
        for module in [&root[..], &guest.bytes[..]] {
            component.section(&RawSection {
                id: ComponentSectionId::CoreModule as u8,
                data: module,
            });
        }
        const ROOT: u32 = 0;
        const GUEST: u32 = 1;

        // Core instance 0: the root; its memory and realloc are core memory
        // 0 and core function 0.
        let mut instances = InstanceSection::new();
        instances.instantiate(ROOT, Vec::<(&str, ModuleArg)>::new());
        component.section(&instances);
        let mut aliases = ComponentAliasSection::new();
        for (kind, name) in [(ExportKind::Memory, MEMORY), (ExportKind::Func, REALLOC)] {
            aliases.alias(Alias::CoreInstanceExport {
                instance: ROOT,
                kind,
                name,
            });
        }
        component.section(&aliases);
        let mut core_funcs = 1u32;
        let mut funcs = 0u32;

        // Every import the guest uses, lowered against the root.
        let lowered: HashMap<(&str, &str), &[wasmparser::CanonicalOption]> = self
            .core_funcs
            .iter()
            .filter_map(|func| match func {
                CoreFunc::Lower { func, options } => match &self.funcs[*func as usize] {
                    Func::Import { instance, name } => Some((
                        (self.instance_imports[*instance as usize], *name),
                        &options[..],
                    )),
                    _ => panic!("{UNEXPECTED}: a lowered function that is not imported"),
                },
                CoreFunc::Alias { .. } => None,
            })
            .collect();
        let mut aliases = ComponentAliasSection::new();
        let mut lowers = CanonicalFunctionSection::new();
        let mut bundles: Vec<Bundle> = Vec::new();
        for (module, name) in &guest.func_imports {
            let options = lowered
                .get(&(module.as_str(), name.as_str()))
                .unwrap_or_else(|| {
                    panic!(
                        "{UNEXPECTED}: the guest imports {module}/{name}, which no import provides"
                    )
                });
            let instance = self
                .instance_imports
                .iter()
                .position(|import| import == module)
                .unwrap() as u32;
            aliases.alias(Alias::InstanceExport {
                instance,
                kind: ComponentExportKind::Func,
                name,
            });
            lowers.lower(funcs, options.iter().map(|option| self.option(option)));
            funcs += 1;
            match bundles.iter_mut().find(|(bundle, _)| bundle == module) {
                Some((_, items)) => items.push((name, ExportKind::Func, core_funcs)),
                None => bundles.push((module, vec![(name, ExportKind::Func, core_funcs)])),
            }
            core_funcs += 1;
        }
        component.section(&aliases);
        component.section(&lowers);

        // The guest, with the lowered imports and the root's memory and table.
        let mut instances = InstanceSection::new();
        for (_, items) in &bundles {
            instances.export_items(items.iter().copied());
        }
        let mut args: Vec<(&str, ModuleArg)> = bundles
            .iter()
            .enumerate()
            .map(|(i, (module, _))| (*module, ModuleArg::Instance(1 + i as u32)))
            .collect();
        args.push((ROOT_MODULE, ModuleArg::Instance(ROOT)));
        instances.instantiate(GUEST, args);
        component.section(&instances);
        let guest_instance = 1 + bundles.len() as u32;

        // The exports: wit-component's function types, lifted from the guest.
        for (id, data) in &self.later_types {
            component.section(&RawSection { id: *id, data });
        }
        // Each export in its own sections, as wit-component writes them: the
        // guest's functions aliased, lifted, exported. A lift and its export
        // each take the next component function index.
        let mut guest_funcs: HashMap<&str, u32> = HashMap::new();
        for (name, index) in &self.exports {
            let Func::Lift(lift) = self.funcs[*index as usize] else {
                panic!("{UNEXPECTED}: the export {name:?} is not a lifted function")
            };
            let lift = &self.lifts[lift];
            let mut aliases = ComponentAliasSection::new();
            let mut guest_func = |export: &'a str| {
                *guest_funcs.entry(export).or_insert_with(|| {
                    aliases.alias(Alias::CoreInstanceExport {
                        instance: guest_instance,
                        kind: ExportKind::Func,
                        name: export,
                    });
                    core_funcs += 1;
                    core_funcs - 1
                })
            };
            let core_func = guest_func(self.guest_export(lift.core_func));
            let options: Vec<CanonicalOption> = lift
                .options
                .iter()
                .map(|option| match option {
                    wasmparser::CanonicalOption::PostReturn(func) => {
                        CanonicalOption::PostReturn(guest_func(self.guest_export(*func)))
                    }
                    option => self.option(option),
                })
                .collect();
            component.section(&aliases);
            let mut lifts = CanonicalFunctionSection::new();
            lifts.lift(core_func, lift.type_index, options);
            component.section(&lifts);
            let mut exports = ComponentExportSection::new();
            exports.export(*name, ComponentExportKind::Func, funcs, None);
            component.section(&exports);
            funcs += 2;
        }
        for (id, data) in &self.customs {
            component.section(&RawSection { id: *id, data });
        }
        component.finish()
    }

    /// A lift's or lower's option, pointed at the root's memory and realloc.
    fn option(&self, option: &wasmparser::CanonicalOption) -> CanonicalOption {
        match option {
            wasmparser::CanonicalOption::UTF8 => CanonicalOption::UTF8,
            wasmparser::CanonicalOption::Memory(_) => ROOT_MEMORY,
            wasmparser::CanonicalOption::Realloc(func) => {
                assert_eq!(
                    self.guest_export(*func),
                    GUEST_REALLOC,
                    "{UNEXPECTED}: a realloc that is not the guest's"
                );
                ROOT_REALLOC
            }
            other => panic!("{UNEXPECTED}: the canonical option {other:?}"),
        }
    }
}

/// The root's memory and `realloc` (core memory 0 and core function 0 of
/// the new component), for every lift and lower.
const ROOT_MEMORY: CanonicalOption = CanonicalOption::Memory(0);
const ROOT_REALLOC: CanonicalOption = CanonicalOption::Realloc(0);

/// The lowered imports of one module name, as one core instance's exports.
type Bundle<'a> = (&'a str, Vec<(&'a str, ExportKind, u32)>);

const UNEXPECTED: &str = "the component is not in the shape component_layout.rs rewrites";

/// Part of a binary by wasmparser's offsets.
fn slice(bytes: &[u8], range: std::ops::Range<u64>) -> &[u8] {
    &bytes[range.start as usize..range.end as usize]
}

/// The guest is the one module that defines a memory.
fn guest_module(modules: &[&[u8]]) -> u32 {
    let mut guests = (0..modules.len()).filter(|&i| defines_memory(modules[i]));
    let guest = guests
        .next()
        .unwrap_or_else(|| panic!("{UNEXPECTED}: no module defines a memory"));
    assert!(
        guests.next().is_none(),
        "{UNEXPECTED}: two modules define memories"
    );
    guest as u32
}

fn defines_memory(module: &[u8]) -> bool {
    Parser::new(0)
        .parse_all(module)
        .any(|payload| matches!(payload, Ok(Payload::MemorySection(reader)) if reader.count() > 0))
}

/// The guest module with its memory imported from the root, and the root's
/// one-slot table as its first table (its own table, with every table
/// index in its code, moves up by one).
struct GuestModule {
    bytes: Vec<u8>,
    /// The imports to lower, as (module, name), in the guest's order.
    func_imports: Vec<(String, String)>,
    memory: wasm_encoder::MemoryType,
    /// `cabi_realloc`'s type.
    realloc_params: Vec<ValType>,
    realloc_results: Vec<ValType>,
    /// The guest's data segments, which the root's memory now starts with.
    data: DataSection,
}

/// The root's table: one slot, for the guest's `cabi_realloc`. The guest's
/// own table stays the guest's, so that wasmtime still fills it lazily: an
/// imported table's elements would be written at every instantiation.
const REALLOC_TABLE: wasm_encoder::TableType = wasm_encoder::TableType {
    element_type: wasm_encoder::RefType::FUNCREF,
    table64: false,
    minimum: 1,
    maximum: Some(1),
    shared: false,
};

impl GuestModule {
    fn rewrite(module: &[u8]) -> Self {
        let mut reencoder = RoundtripReencoder;
        let mut memory = None;
        let mut realloc = None;
        let mut func_imports = Vec::new();
        let mut func_types: Vec<u32> = Vec::new();
        let mut types: Vec<(Vec<ValType>, Vec<ValType>)> = Vec::new();
        for payload in Parser::new(0).parse_all(module) {
            match payload.unwrap_or_else(|e| panic!("reading the guest module: {e}")) {
                Payload::TypeSection(reader) => {
                    for ty in reader.into_iter_err_on_gc_types() {
                        let ty = ty.unwrap();
                        let mut convert = |tys: &[wasmparser::ValType]| -> Vec<ValType> {
                            tys.iter()
                                .map(|t| reencoder.val_type(*t).unwrap())
                                .collect()
                        };
                        types.push((convert(ty.params()), convert(ty.results())));
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import.unwrap();
                        match import.ty {
                            TypeRef::Func(ty) => {
                                func_types.push(ty);
                                func_imports
                                    .push((import.module.to_owned(), import.name.to_owned()))
                            }
                            _ => panic!("{UNEXPECTED}: the guest imports a non-function"),
                        }
                    }
                }
                Payload::FunctionSection(reader) => {
                    func_types.extend(reader.into_iter().map(Result::unwrap))
                }
                Payload::MemorySection(reader) => {
                    let mut memories = reader.into_iter().map(Result::unwrap);
                    memory = memories.next();
                    assert!(memories.next().is_none(), "{UNEXPECTED}: two memories");
                }
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export.unwrap();
                        if export.name == GUEST_REALLOC && export.kind == ExternalKind::Func {
                            realloc = Some(export.index);
                        }
                    }
                }
                _ => {}
            }
        }
        let memory = reencoder
            .memory_type(memory.expect("the guest defines a memory"))
            .unwrap();
        let realloc = realloc.unwrap_or_else(|| panic!("the guest exports no {GUEST_REALLOC}"));
        let (realloc_params, realloc_results) =
            types[func_types[realloc as usize] as usize].clone();

        let mut rewriter = Rewriter {
            memory,
            realloc,
            realloc_element_written: false,
            data: DataSection::new(),
        };
        let mut out = Module::new();
        rewriter
            .parse_core_module(&mut out, Parser::new(0), module)
            .unwrap_or_else(|e| panic!("rewriting the guest module: {e}"));
        assert!(
            rewriter.realloc_element_written,
            "{UNEXPECTED}: no place for the realloc slot's element"
        );
        GuestModule {
            bytes: out.finish(),
            func_imports,
            memory,
            realloc_params,
            realloc_results,
            data: rewriter.data,
        }
    }
}

/// The guest module's rewrite, section by section: the memory and the
/// realloc table imported, table indices moved up by one, one element
/// segment more, and the data segments moved to the root, so that the
/// memory that defines them starts from wasmtime's copy-on-write image
/// instead of being written at every instantiation.
struct Rewriter {
    memory: wasm_encoder::MemoryType,
    realloc: u32,
    realloc_element_written: bool,
    data: DataSection,
}

impl Rewriter {
    fn realloc_element(&mut self, elements: &mut ElementSection) {
        elements.active(
            Some(0),
            &ConstExpr::i32_const(0),
            Elements::Functions(vec![self.realloc].into()),
        );
        self.realloc_element_written = true;
    }
}

impl Reencode for Rewriter {
    type Error = std::convert::Infallible;

    fn table_index(&mut self, table: u32) -> Result<u32, ReencodeError<Self::Error>> {
        Ok(table + 1)
    }

    fn parse_import_section(
        &mut self,
        imports: &mut ImportSection,
        section: wasmparser::ImportSectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        reencode::utils::parse_import_section(self, imports, section)?;
        imports.import(ROOT_MODULE, MEMORY, EntityType::Memory(self.memory));
        imports.import(
            ROOT_MODULE,
            REALLOC_TABLE_NAME,
            EntityType::Table(REALLOC_TABLE),
        );
        Ok(())
    }

    fn parse_memory_section(
        &mut self,
        _memories: &mut MemorySection,
        _section: wasmparser::MemorySectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        // The memory is the root's, imported above.
        Ok(())
    }

    fn parse_data_section(
        &mut self,
        _data: &mut DataSection,
        section: wasmparser::DataSectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        for datum in section {
            let datum = datum?;
            // The root has no globals: an offset must be a constant.
            let wasmparser::DataKind::Active {
                memory_index: 0,
                offset_expr,
            } = datum.kind
            else {
                panic!("{UNEXPECTED}: a passive data segment or a second memory");
            };
            let mut operators = offset_expr.get_operators_reader();
            let (Ok(wasmparser::Operator::I32Const { value }), Ok(wasmparser::Operator::End)) =
                (operators.read(), operators.read())
            else {
                panic!("{UNEXPECTED}: a data segment at a computed offset");
            };
            self.data
                .active(0, &ConstExpr::i32_const(value), datum.data.iter().copied());
        }
        Ok(())
    }

    fn data_count(&mut self, _count: u32) -> Result<u32, ReencodeError<Self::Error>> {
        // Every segment moved to the root (a `memory.init` in the guest's
        // code would now fail validation, and so the build).
        Ok(0)
    }

    fn parse_element_section(
        &mut self,
        elements: &mut ElementSection,
        section: wasmparser::ElementSectionReader<'_>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        reencode::utils::parse_element_section(self, elements, section)?;
        self.realloc_element(elements);
        Ok(())
    }

    fn intersperse_section_hook(
        &mut self,
        module: &mut Module,
        _after: Option<SectionId>,
        before: Option<SectionId>,
    ) -> Result<(), ReencodeError<Self::Error>> {
        // A guest without an element section gets one, where it belongs.
        if !self.realloc_element_written
            && matches!(
                before,
                None | Some(SectionId::DataCount | SectionId::Code | SectionId::Data)
            )
        {
            let mut elements = ElementSection::new();
            self.realloc_element(&mut elements);
            module.section(&elements);
        }
        Ok(())
    }
}

/// The root module: the guest's memory, the realloc table, and `realloc`,
/// which calls the guest's `cabi_realloc` through that table (filled by the
/// guest's element segment when it is instantiated; nothing can call
/// `realloc` before then).
fn root_module(guest: &GuestModule) -> Vec<u8> {
    let mut module = Module::new();
    let mut types = TypeSection::new();
    types
        .ty()
        .function(guest.realloc_params.clone(), guest.realloc_results.clone());
    module.section(&types);
    let mut functions = FunctionSection::new();
    functions.function(0);
    module.section(&functions);
    let mut tables = TableSection::new();
    tables.table(REALLOC_TABLE);
    module.section(&tables);
    let mut memories = MemorySection::new();
    memories.memory(guest.memory);
    module.section(&memories);
    let mut exports = ExportSection::new();
    exports.export(MEMORY, ExportKind::Memory, 0);
    exports.export(REALLOC_TABLE_NAME, ExportKind::Table, 0);
    exports.export(REALLOC, ExportKind::Func, 0);
    module.section(&exports);
    let mut code = CodeSection::new();
    let mut trampoline = Function::new([]);
    for param in 0..guest.realloc_params.len() as u32 {
        trampoline.instruction(&Instruction::LocalGet(param));
    }
    trampoline.instruction(&Instruction::I32Const(0));
    trampoline.instruction(&Instruction::CallIndirect {
        type_index: 0,
        table_index: 0,
    });
    trampoline.instruction(&Instruction::End);
    code.function(&trampoline);
    module.section(&code);
    module.section(&guest.data);
    module.finish()
}
