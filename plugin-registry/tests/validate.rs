//! Upload validation against components built here from WIT worlds, one per
//! rule, so each rejection is pinned to the rule that produced it.

use plugin_registry::{PLUGIN_WIT, PluginDigest, Rule, UploadLimits, validate};
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{ManglingAndAbi, Resolve};

/// Builds a component whose core module is a stub that satisfies `world`.
fn component_for(wit: &str, world: &str) -> Vec<u8> {
    let mut resolve = Resolve::default();
    let package = resolve.push_str("test.wit", wit).expect("test WIT parses");
    let world = resolve
        .select_world(&[package], Some(world))
        .expect("test world exists");

    let mut module = wit_component::dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
        .expect("metadata embeds");
    ComponentEncoder::default()
        .module(&module)
        .expect("module accepted")
        .validate(true)
        .encode()
        .expect("component encodes")
}

fn plugin_component() -> Vec<u8> {
    component_for(PLUGIN_WIT, "plugin")
}

fn rejected_rule(bytes: &[u8]) -> Rule {
    validate(bytes, &UploadLimits::default())
        .expect_err("upload should be rejected")
        .rule
}

/// The plugin world with `extra` added inside the world body.
fn plugin_world_with(extra: &str) -> String {
    format!(
        "package test:plugin;\n\
         world plugin {{\n\
           import sandnotes:plugin/host@0.1.0;\n\
           {extra}\n\
         }}\n\
         package sandnotes:plugin@0.1.0 {{\n\
           interface host {{\n\
             enum level {{ debug, info, warn, error }}\n\
             note-title: func() -> string;\n\
             note-body: func() -> string;\n\
             log: func(level: level, message: string);\n\
           }}\n\
         }}\n"
    )
}

const RUN_EXPORT: &str = "variant output { text(string), json(string), html(string) }\n\
                          export run: func(args: string) -> result<output, string>;";

#[test]
fn plugin_world_component_is_accepted() {
    let bytes = plugin_component();
    let validated = validate(&bytes, &UploadLimits::default()).expect("accepted");
    assert_eq!(validated.size_bytes, bytes.len());
    assert_eq!(validated.digest, PluginDigest::of(&bytes));
}

#[test]
fn component_built_from_an_equivalent_world_is_accepted() {
    let bytes = component_for(&plugin_world_with(RUN_EXPORT), "plugin");
    validate(&bytes, &UploadLimits::default()).expect("accepted");
}

#[test]
fn same_bytes_give_same_digest() {
    let first = validate(&plugin_component(), &UploadLimits::default()).expect("accepted");
    let second = validate(&plugin_component(), &UploadLimits::default()).expect("accepted");
    assert_eq!(first.digest, second.digest);
}

#[test]
fn garbage_bytes_are_not_wasm() {
    assert_eq!(rejected_rule(b"this is not a plugin"), Rule::NotWasm);
    assert_eq!(rejected_rule(b""), Rule::NotWasm);
}

#[test]
fn core_module_is_rejected() {
    let module = wat::parse_str("(module (func (export \"run\")))").expect("wat parses");
    assert_eq!(rejected_rule(&module), Rule::CoreModule);
}

#[test]
fn oversized_upload_is_rejected_before_parsing() {
    let limits = UploadLimits {
        max_bytes: 16,
        ..UploadLimits::default()
    };
    let rejection = validate(&plugin_component(), &limits).expect_err("too large");
    assert_eq!(rejection.rule, Rule::TooLarge);
}

#[test]
fn truncated_component_is_invalid() {
    let bytes = plugin_component();
    assert_eq!(
        rejected_rule(&bytes[..bytes.len() / 2]),
        Rule::InvalidComponent
    );
}

#[test]
fn wasi_import_is_rejected_and_named() {
    let wit = format!(
        "{}\npackage wasi:cli@0.2.0 {{\n\
           interface environment {{\n\
             get-environment: func() -> list<tuple<string, string>>;\n\
           }}\n\
         }}\n",
        plugin_world_with(&format!("import wasi:cli/environment@0.2.0;\n{RUN_EXPORT}"))
    );
    let rejection = validate(&component_for(&wit, "plugin"), &UploadLimits::default())
        .expect_err("WASI import rejected");
    assert_eq!(rejection.rule, Rule::ForbiddenImport);
    assert!(
        rejection.message.contains("wasi:cli/environment@0.2.0"),
        "message names the import: {}",
        rejection.message
    );
}

#[test]
fn bare_function_import_is_rejected() {
    let wit = plugin_world_with(&format!(
        "import read-file: func(path: string) -> string;\n{RUN_EXPORT}"
    ));
    let rejection = validate(&component_for(&wit, "plugin"), &UploadLimits::default())
        .expect_err("function import rejected");
    assert_eq!(rejection.rule, Rule::ForbiddenImport);
    assert!(rejection.message.contains("read-file"));
}

#[test]
fn host_function_with_other_signature_is_rejected() {
    let wit = format!(
        "package test:plugin;\n\
         world plugin {{\n\
           import sandnotes:plugin/host@0.1.0;\n\
           {RUN_EXPORT}\n\
         }}\n\
         package sandnotes:plugin@0.1.0 {{\n\
           interface host {{\n\
             note-body: func() -> list<u8>;\n\
           }}\n\
         }}\n"
    );
    assert_eq!(
        rejected_rule(&component_for(&wit, "plugin")),
        Rule::ImportSignature
    );
}

#[test]
fn unknown_host_function_is_rejected() {
    let wit = format!(
        "package test:plugin;\n\
         world plugin {{\n\
           import sandnotes:plugin/host@0.1.0;\n\
           {RUN_EXPORT}\n\
         }}\n\
         package sandnotes:plugin@0.1.0 {{\n\
           interface host {{\n\
             master-key: func() -> string;\n\
           }}\n\
         }}\n"
    );
    let rejection = validate(&component_for(&wit, "plugin"), &UploadLimits::default())
        .expect_err("unknown host function rejected");
    assert_eq!(rejection.rule, Rule::ForbiddenImport);
    assert!(rejection.message.contains("master-key"));
}

#[test]
fn component_without_exports_has_no_run() {
    let wit = plugin_world_with("");
    assert_eq!(
        rejected_rule(&component_for(&wit, "plugin")),
        Rule::MissingRun
    );
}

#[test]
fn run_with_wrong_signature_is_rejected() {
    let wit = plugin_world_with("export run: func(args: string) -> string;");
    assert_eq!(
        rejected_rule(&component_for(&wit, "plugin")),
        Rule::RunSignature
    );
}

#[test]
fn run_with_other_output_cases_is_rejected() {
    let wit = plugin_world_with(
        "variant output { text(string), json(string), binary(list<u8>) }\n\
         export run: func(args: string) -> result<output, string>;",
    );
    assert_eq!(
        rejected_rule(&component_for(&wit, "plugin")),
        Rule::RunSignature
    );
}

#[test]
fn export_besides_run_is_rejected() {
    let wit = plugin_world_with(&format!(
        "{RUN_EXPORT}\nexport debug-dump: func() -> string;"
    ));
    let rejection = validate(&component_for(&wit, "plugin"), &UploadLimits::default())
        .expect_err("extra export rejected");
    assert_eq!(rejection.rule, Rule::UnexpectedExport);
    assert!(rejection.message.contains("debug-dump"));
}

#[test]
fn too_many_functions_hit_the_structure_limit() {
    let limits = UploadLimits {
        max_core_functions: 1,
        ..UploadLimits::default()
    };
    let rejection = validate(&plugin_component(), &limits).expect_err("limit");
    assert_eq!(rejection.rule, Rule::StructureLimit);
}

#[test]
fn rule_names_are_distinct() {
    let rules = [
        Rule::TooLarge,
        Rule::NotWasm,
        Rule::CoreModule,
        Rule::StructureLimit,
        Rule::InvalidComponent,
        Rule::ForbiddenImport,
        Rule::ImportSignature,
        Rule::MissingRun,
        Rule::RunSignature,
        Rule::UnexpectedExport,
    ];
    let names: std::collections::HashSet<_> = rules.iter().map(|rule| rule.as_str()).collect();
    assert_eq!(names.len(), rules.len());
}
