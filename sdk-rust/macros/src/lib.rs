//! `#[tool]`: turns a plain Rust function into a skill tool.
//!
//! ```ignore
//! /// Greets someone by name.
//! #[tool]
//! fn greet(#[arg("Who to greet")] name: String) -> String {
//!     format!("Hello, {name}!")
//! }
//! ```
//!
//! The function stays as written. Next to it the macro emits a braced struct of the same name
//! (types and functions live in different namespaces) implementing `skill_sdk::ToolFn`: the
//! tool's definition (name, doc comment as description, typed parameters) and a `call` that
//! takes the arguments out of the host's list, converts them and calls the function.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::{format_ident, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{
    Attribute, Expr, ExprLit, ExprUnary, FnArg, ItemFn, Lit, LitStr, Pat, Token, UnOp,
    parse_macro_input,
};

#[proc_macro_attribute]
pub fn tool(attr: TokenStream, item: TokenStream) -> TokenStream {
    let options = parse_macro_input!(attr as ToolOptions);
    let function = parse_macro_input!(item as ItemFn);
    match expand(options, function) {
        Ok(tokens) => tokens.into(),
        Err(err) => err.to_compile_error().into(),
    }
}

/// `#[tool]`, `#[tool(name = "s3-list")]`, `#[tool(description = "...")]`, and what hosts
/// show and decide by: `title = "..."`, the hints `read_only`, `destructive`, `idempotent`,
/// `open_world` (alone for `true`, or `= false`), and `output_schema = "<JSON Schema>"`.
#[derive(Default)]
struct ToolOptions {
    name: Option<LitStr>,
    description: Option<LitStr>,
    title: Option<LitStr>,
    output_schema: Option<LitStr>,
    read_only: Option<bool>,
    destructive: Option<bool>,
    idempotent: Option<bool>,
    open_world: Option<bool>,
}

const TOOL_OPTIONS: &str = "expected `name`, `description`, `title` or `output_schema` = \"...\", \
     or `read_only`, `destructive`, `idempotent`, `open_world` (optionally `= false`)";

impl Parse for ToolOptions {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut options = ToolOptions::default();
        let metas = Punctuated::<syn::Meta, Token![,]>::parse_terminated(input)?;
        for meta in metas {
            let path = meta.path();
            let hint = [
                ("read_only", &mut options.read_only),
                ("destructive", &mut options.destructive),
                ("idempotent", &mut options.idempotent),
                ("open_world", &mut options.open_world),
            ]
            .into_iter()
            .find(|(name, _)| path.is_ident(name));
            match (&meta, hint) {
                (syn::Meta::Path(_), Some((_, slot))) => *slot = Some(true),
                (syn::Meta::NameValue(pair), Some((_, slot))) => {
                    *slot = Some(lit_bool(&pair.value)?)
                }
                (syn::Meta::NameValue(pair), None) => {
                    let value = Some(lit_str(&pair.value)?);
                    if path.is_ident("name") {
                        options.name = value;
                    } else if path.is_ident("description") {
                        options.description = value;
                    } else if path.is_ident("title") {
                        options.title = value;
                    } else if path.is_ident("output_schema") {
                        options.output_schema = value;
                    } else {
                        return Err(syn::Error::new(path.span(), TOOL_OPTIONS));
                    }
                }
                _ => return Err(syn::Error::new(path.span(), TOOL_OPTIONS)),
            }
        }
        Ok(options)
    }
}

fn lit_bool(expr: &Expr) -> syn::Result<bool> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Bool(b), ..
        }) => Ok(b.value),
        other => Err(syn::Error::new(other.span(), "expected `true` or `false`")),
    }
}

fn option_tokens<T: quote::ToTokens>(value: Option<T>) -> proc_macro2::TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}

/// `#[arg("description")]`, optionally followed by `default = <literal>` and
/// `choices = ["a", "b"]`; `description = "..."` also works.
#[derive(Default)]
struct ArgOptions {
    description: Option<LitStr>,
    default_json: Option<String>,
    choices: Vec<LitStr>,
}

impl Parse for ArgOptions {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let mut options = ArgOptions::default();
        if input.peek(LitStr) {
            options.description = Some(input.parse()?);
            if input.is_empty() {
                return Ok(options);
            }
            input.parse::<Token![,]>()?;
        }
        let pairs = Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated(input)?;
        for pair in pairs {
            if pair.path.is_ident("description") {
                options.description = Some(lit_str(&pair.value)?);
            } else if pair.path.is_ident("default") {
                options.default_json = Some(json_literal(&pair.value)?);
            } else if pair.path.is_ident("choices") {
                let Expr::Array(array) = &pair.value else {
                    return Err(syn::Error::new(
                        pair.value.span(),
                        "expected a list: choices = [\"a\", \"b\"]",
                    ));
                };
                for element in &array.elems {
                    options.choices.push(lit_str(element)?);
                }
            } else {
                return Err(syn::Error::new(
                    pair.path.span(),
                    "expected `description = \"...\"`, `default = <literal>` or `choices = [...]`",
                ));
            }
        }
        Ok(options)
    }
}

fn lit_str(expr: &Expr) -> syn::Result<LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.clone()),
        other => Err(syn::Error::new(other.span(), "expected a string literal")),
    }
}

/// A Rust literal as the JSON literal the contract's `default-value` carries.
fn json_literal(expr: &Expr) -> syn::Result<String> {
    match expr {
        Expr::Lit(ExprLit { lit, .. }) => match lit {
            Lit::Str(s) => Ok(json_string(&s.value())),
            Lit::Int(i) => Ok(i.base10_digits().to_string()),
            Lit::Float(f) => Ok(f.base10_digits().to_string()),
            Lit::Bool(b) => Ok(b.value.to_string()),
            other => Err(syn::Error::new(
                other.span(),
                "a default must be a string, number or bool literal",
            )),
        },
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => Ok(format!("-{}", json_literal(expr)?)),
        other => Err(syn::Error::new(other.span(), "a default must be a literal")),
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The doc comment, as one description: lines trimmed, paragraphs kept.
fn doc_text(attrs: &[Attribute]) -> String {
    let lines: Vec<String> = attrs
        .iter()
        .filter(|a| a.path().is_ident("doc"))
        .filter_map(|a| match &a.meta {
            syn::Meta::NameValue(nv) => lit_str(&nv.value)
                .ok()
                .map(|s| s.value().trim().to_string()),
            _ => None,
        })
        .collect();
    lines.join("\n").trim().to_string()
}

fn expand(options: ToolOptions, mut function: ItemFn) -> syn::Result<proc_macro2::TokenStream> {
    let ident = function.sig.ident.clone();
    let vis = function.vis.clone();
    let tool_name = options
        .name
        .map(|n| n.value())
        .unwrap_or_else(|| ident.to_string().trim_start_matches("r#").replace('_', "-"));
    let description = options
        .description
        .map(|d| d.value())
        .unwrap_or_else(|| doc_text(&function.attrs));
    let title = option_tokens(
        options
            .title
            .map(|t| quote!(::std::string::String::from(#t))),
    );
    let output_schema = option_tokens(
        options
            .output_schema
            .map(|t| quote!(::std::string::String::from(#t))),
    );
    let [read_only, destructive, idempotent, open_world] = [
        options.read_only,
        options.destructive,
        options.idempotent,
        options.open_world,
    ]
    .map(option_tokens);

    let mut param_defs = Vec::new();
    let mut takes = Vec::new();
    let mut call_args = Vec::new();
    for (index, input) in function.sig.inputs.iter_mut().enumerate() {
        let FnArg::Typed(typed) = input else {
            return Err(syn::Error::new(
                input.span(),
                "a tool is a free function; it cannot take `self`",
            ));
        };
        let Pat::Ident(pat) = &*typed.pat else {
            return Err(syn::Error::new(
                typed.pat.span(),
                "tool parameters must be plain names",
            ));
        };
        let name = pat.ident.to_string().trim_start_matches("r#").to_string();
        let mut arg = ArgOptions::default();
        let mut kept = Vec::new();
        for attr in typed.attrs.drain(..) {
            if attr.path().is_ident("arg") {
                arg = attr.parse_args()?;
            } else {
                kept.push(attr);
            }
        }
        typed.attrs = kept;
        let ty = &typed.ty;
        let description = arg.description.map(|d| d.value()).unwrap_or_default();
        let default = match arg.default_json {
            Some(json) => quote!(::core::option::Option::Some(#json)),
            None => quote!(::core::option::Option::None),
        };
        let choices = arg.choices;
        param_defs.push(quote! {
            ::skill_sdk::__param::<#ty>(#name, #description, #default, &[#(#choices),*])
        });
        let local = format_ident!("__arg{}", index, span = Span::call_site());
        takes.push(quote! { let #local: #ty = args.take::<#ty>(#name)?; });
        call_args.push(local);
    }

    Ok(quote! {
        #function

        #[allow(non_camel_case_types)]
        #[doc(hidden)]
        #vis struct #ident {}

        impl ::skill_sdk::ToolFn for #ident {
            const NAME: &'static str = #tool_name;

            fn definition() -> ::skill_sdk::types::Tool {
                ::skill_sdk::types::Tool {
                    name: ::std::string::String::from(#tool_name),
                    description: ::std::string::String::from(#description),
                    params: ::std::vec![#(#param_defs),*],
                }
            }

            fn details() -> ::skill_sdk::types::ToolDetails {
                ::skill_sdk::types::ToolDetails {
                    tool: ::std::string::String::from(#tool_name),
                    title: #title,
                    annotations: ::skill_sdk::types::ToolAnnotations {
                        read_only: #read_only,
                        destructive: #destructive,
                        idempotent: #idempotent,
                        open_world: #open_world,
                    },
                    output_schema: #output_schema,
                }
            }

            fn call(
                mut args: ::skill_sdk::Args,
            ) -> ::core::result::Result<::skill_sdk::types::Output, ::skill_sdk::types::ToolError> {
                #(#takes)*
                ::skill_sdk::IntoOutput::into_output(#ident(#(#call_args),*))
            }
        }
    })
}
