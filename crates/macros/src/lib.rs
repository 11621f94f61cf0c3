//! `#[derive(Codes)]`: the one way fleetpath declares the stable `snake_case` code of each
//! variant of an error or reason enum, written once beside the variant.
//!
//! ```ignore
//! #[derive(Debug, fleetpath::Codes)]
//! enum GraphError {
//!     #[code("no_releases")]
//!     NoReleases,
//!     #[code("unknown_release")]
//!     UnknownRelease { version: String, at: String },
//!     /// The wrapped error's own code (its field `source`, or its only field; any field
//!     /// by name: `#[code(first)]`).
//!     #[code(source)]
//!     Version { at: String, source: VersionError },
//! }
//! ```
//!
//! generates `GraphError::CODES` (every code of the enum's own variants, in declaration
//! order; delegating variants contribute their source's list elsewhere) and
//! `GraphError::code(&self) -> &'static str`. With `#[codes(serde)]` on a field-less enum, it
//! also implements `serde::Serialize` and `serde::Deserialize` as the code string, so a
//! reason list's wire form is its codes.

use proc_macro::TokenStream;
use proc_macro2::TokenStream as Tokens;
use quote::quote;
use syn::{Data, DeriveInput, Fields, Ident, LitStr, parse_macro_input, spanned::Spanned};

/// See the [crate docs](crate).
#[proc_macro_derive(Codes, attributes(code, codes))]
pub fn derive_codes(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input).unwrap_or_else(syn::Error::into_compile_error).into()
}

/// What a variant's `#[code(…)]` says.
enum Code {
    Literal(LitStr),
    /// Delegates to a field: its name, or its position in a tuple variant.
    Source(syn::Member),
}

fn variant_code(variant: &syn::Variant) -> syn::Result<Code> {
    let mut found = None;
    for attr in variant.attrs.iter().filter(|a| a.path().is_ident("code")) {
        if found.is_some() {
            return Err(syn::Error::new(attr.span(), "`#[code]` given twice"));
        }
        found = Some(attr.parse_args_with(|input: syn::parse::ParseStream<'_>| {
            if input.peek(LitStr) {
                let code: LitStr = input.parse()?;
                let ok = !code.value().is_empty()
                    && code.value().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
                if !ok {
                    return Err(syn::Error::new(code.span(), "a code is snake_case: a-z, 0-9 and _"));
                }
                return Ok(Code::Literal(code));
            }
            let word: Ident = input.parse()?;
            Ok(Code::Source(source_field(variant, &word)?))
        })?);
    }
    found.ok_or_else(|| syn::Error::new(variant.span(), "every variant needs `#[code(\"…\")]` or `#[code(source)]`"))
}

/// The field a `#[code(field)]` variant delegates to: the field of that name, or for
/// `source`, the only field of a tuple variant.
fn source_field(variant: &syn::Variant, word: &Ident) -> syn::Result<syn::Member> {
    match &variant.fields {
        Fields::Named(named) => named
            .named
            .iter()
            .filter_map(|f| f.ident.clone())
            .find(|i| i == word)
            .map(syn::Member::Named)
            .ok_or_else(|| syn::Error::new(word.span(), format!("`#[code({word})]` needs a field named `{word}`"))),
        Fields::Unnamed(unnamed) if unnamed.unnamed.len() == 1 && word == "source" => {
            Ok(syn::Member::Unnamed(0.into()))
        }
        _ => Err(syn::Error::new(word.span(), "`#[code(source)]` needs a field named `source` or one field")),
    }
}

fn wants_serde(input: &DeriveInput) -> syn::Result<bool> {
    let mut serde = false;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("codes")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("serde") {
                serde = true;
                Ok(())
            } else {
                Err(meta.error("expected `serde`"))
            }
        })?;
    }
    Ok(serde)
}

fn expand(input: &DeriveInput) -> syn::Result<Tokens> {
    let Data::Enum(data) = &input.data else {
        return Err(syn::Error::new(input.span(), "`Codes` derives for enums only"));
    };
    let name = &input.ident;
    let (impl_generics, type_generics, where_clause) = input.generics.split_for_impl();
    let mut codes = Vec::new();
    let mut arms = Vec::new();
    let mut units = Vec::new();
    for variant in &data.variants {
        let v = &variant.ident;
        match variant_code(variant)? {
            Code::Literal(code) => {
                if codes.iter().any(|c: &LitStr| c.value() == code.value()) {
                    return Err(syn::Error::new(code.span(), "code given to two variants"));
                }
                arms.push(quote! { Self::#v { .. } => #code });
                if matches!(variant.fields, Fields::Unit) {
                    units.push((v.clone(), code.clone()));
                }
                codes.push(code);
            }
            Code::Source(member) => {
                let binding = Ident::new("__source", v.span());
                arms.push(quote! { Self::#v { #member: #binding, .. } => #binding.code() });
            }
        }
    }
    let doc_codes = format!("Every code [`{name}::code`] returns for the enum's own variants, in declaration order.");
    let mut out = quote! {
        impl #impl_generics #name #type_generics #where_clause {
            #[doc = #doc_codes]
            pub const CODES: &'static [&'static str] = &[#(#codes),*];

            /// The stable `snake_case` code, shared by every binding.
            #[allow(clippy::match_same_arms)]
            pub fn code(&self) -> &'static str {
                match self {
                    #(#arms,)*
                }
            }
        }
    };
    if wants_serde(input)? {
        if units.len() != data.variants.len() {
            return Err(syn::Error::new(
                input.span(),
                "`#[codes(serde)]` needs field-less variants with literal codes",
            ));
        }
        let (variants, literals): (Vec<_>, Vec<_>) = units.into_iter().unzip();
        out.extend(quote! {
            impl ::serde::Serialize for #name {
                fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                    serializer.serialize_str(self.code())
                }
            }

            impl<'de> ::serde::Deserialize<'de> for #name {
                fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                    let text = <::std::borrow::Cow<'de, str> as ::serde::Deserialize>::deserialize(deserializer)?;
                    match &*text {
                        #(#literals => Ok(Self::#variants),)*
                        other => Err(<D::Error as ::serde::de::Error>::unknown_variant(other, Self::CODES)),
                    }
                }
            }
        });
    }
    Ok(out)
}
