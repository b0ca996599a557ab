//! A deliberately small, hostile-input-safe XML reader and the CDATA-safe writer.
//!
//! WeChat XML is a flat `<xml>` element with a few nested lists. We read it into an [`Element`]
//! tree with hard limits and refuse anything a WeChat message never contains: DTDs, entity
//! declarations, references to anything but the five predefined entities and character
//! references, processing instructions. No entity is ever expanded, so XXE and "billion laughs"
//! cannot happen. A DTD is refused as soon as the reader meets it (there is no text scan that
//! could refuse a user's message merely for containing the characters `<!DOCTYPE` in CDATA).

use std::borrow::Cow;

use quick_xml::Reader;
use quick_xml::events::Event;

use crate::WechatError;

/// Largest accepted document (64 KiB). WeChat messages are a few hundred bytes.
pub const MAX_XML_BYTES: usize = 64 * 1024;
/// Deepest accepted element nesting (`xml/SubscribeMsgPopupEvent/List/TemplateId` is 4).
pub const MAX_DEPTH: usize = 8;
/// Most elements accepted in one document.
pub const MAX_ELEMENTS: usize = 1024;

/// One parsed element: its name, its text (character data and CDATA concatenated, untrimmed),
/// and its child elements in document order. Attributes are ignored. Names and text borrow
/// from the input unless text had to be assembled from several pieces.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element<'a> {
    /// Local name as written (WeChat uses no namespaces).
    pub name: Cow<'a, str>,
    /// Concatenated text content.
    pub text: Cow<'a, str>,
    /// Child elements in order.
    pub children: Vec<Element<'a>>,
}

impl<'a> Element<'a> {
    /// The only child called `name`.
    ///
    /// # Errors
    /// [`WechatError::XmlMalformed`] when it appears more than once (ambiguous input is refused).
    pub fn child(&self, name: &str) -> Result<Option<&Element<'a>>, WechatError> {
        let mut it = self.children.iter().filter(|c| c.name == name);
        let first = it.next();
        if it.next().is_some() {
            return Err(WechatError::XmlMalformed("duplicate field"));
        }
        Ok(first)
    }

    /// All children called `name`.
    pub fn children_named<'s>(
        &'s self,
        name: &'s str,
    ) -> impl Iterator<Item = &'s Element<'a>> + 's {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Text of the only child called `name`, untrimmed.
    pub fn text_of(&self, name: &str) -> Result<Option<&str>, WechatError> {
        Ok(self.child(name)?.map(|e| e.text.as_ref()))
    }
}

/// Parse a WeChat XML document.
///
/// # Errors
/// [`WechatError::XmlTooLarge`], [`WechatError::InvalidUtf8`], [`WechatError::XmlForbidden`],
/// [`WechatError::XmlSyntax`] or [`WechatError::XmlMalformed`].
pub fn parse(input: &[u8]) -> Result<Element<'_>, WechatError> {
    if input.len() > MAX_XML_BYTES {
        return Err(WechatError::XmlTooLarge);
    }
    parse_str(std::str::from_utf8(input).map_err(|_| WechatError::InvalidUtf8)?)
}

/// [`parse`] for input already known to be UTF-8 (e.g. a decrypted message), which spares
/// validating it again.
///
/// # Errors
/// As [`parse`].
pub fn parse_str(text: &str) -> Result<Element<'_>, WechatError> {
    if text.len() > MAX_XML_BYTES {
        return Err(WechatError::XmlTooLarge);
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_comments = true;

    let mut stack: Vec<Element<'_>> = Vec::with_capacity(MAX_DEPTH);
    let mut root: Option<Element<'_>> = None;
    let mut count = 0usize;

    loop {
        let ev = reader.read_event().map_err(WechatError::XmlSyntax)?;
        match ev {
            Event::Start(e) | Event::Empty(e) if root.is_some() => {
                let _ = e;
                return Err(WechatError::XmlMalformed("content after the root element"));
            }
            Event::Start(e) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(WechatError::XmlTooLarge);
                }
                // The root of a WeChat message has about ten fields: one allocation for them.
                let children = if stack.is_empty() {
                    Vec::with_capacity(12)
                } else {
                    Vec::new()
                };
                stack.push(Element {
                    name: slice_of(text, e.name().as_ref())?,
                    text: Cow::Borrowed(""),
                    children,
                });
            }
            Event::Empty(e) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(WechatError::XmlTooLarge);
                }
                let el = Element {
                    name: slice_of(text, e.name().as_ref())?,
                    ..Element::default()
                };
                attach(&mut stack, &mut root, el);
            }
            Event::End(_) => {
                // quick-xml checks that end names match their start.
                let el = stack
                    .pop()
                    .ok_or_else(|| WechatError::XmlMalformed("unbalanced end tag"))?;
                attach(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                push_text(&mut stack, slice_of(text, &t)?)?;
            }
            Event::CData(c) => {
                let s = slice_of(text, &c)?;
                if stack.is_empty() {
                    return Err(WechatError::XmlMalformed("text outside the root element"));
                }
                push_text(&mut stack, s)?;
            }
            Event::GeneralRef(r) => {
                let ch = if r.is_char_ref() {
                    match r.resolve_char_ref() {
                        Ok(Some(c)) if is_xml_char(c) => c,
                        _ => return Err(WechatError::XmlForbidden),
                    }
                } else {
                    match r.as_ref() {
                        b"lt" => '<',
                        b"gt" => '>',
                        b"amp" => '&',
                        b"apos" => '\'',
                        b"quot" => '"',
                        _ => return Err(WechatError::XmlForbidden),
                    }
                };
                push_text(&mut stack, Cow::Owned(ch.to_string()))?;
            }
            Event::Comment(_) => {}
            Event::Decl(_) => {}
            Event::PI(_) | Event::DocType(_) => return Err(WechatError::XmlForbidden),
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(WechatError::XmlMalformed("unclosed element"));
    }
    root.ok_or_else(|| WechatError::XmlMalformed("no root element"))
}

/// `piece` (a name or text the reader handed us) as a slice of the already validated input
/// when it is a view into it (it is, for string input): no allocation and no second UTF-8
/// check. An owned, validated copy otherwise.
fn slice_of<'a>(input: &'a str, piece: &[u8]) -> Result<Cow<'a, str>, WechatError> {
    let off = (piece.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
    // A range inside `input` is the very same memory (live allocations never overlap), so no
    // byte comparison is needed; `get` still refuses a range off char boundaries.
    if let Some(borrowed) = off
        .checked_add(piece.len())
        .and_then(|end| input.get(off..end))
    {
        return Ok(Cow::Borrowed(borrowed));
    }
    std::str::from_utf8(piece)
        .map(|s| Cow::Owned(s.to_owned()))
        .map_err(|_| WechatError::InvalidUtf8)
}

fn attach<'a>(stack: &mut [Element<'a>], root: &mut Option<Element<'a>>, el: Element<'a>) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn push_text<'a>(stack: &mut [Element<'a>], s: Cow<'a, str>) -> Result<(), WechatError> {
    match stack.last_mut() {
        Some(top) if top.text.is_empty() => {
            top.text = s;
            Ok(())
        }
        Some(top) => {
            top.text.to_mut().push_str(&s);
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None => Err(WechatError::XmlMalformed("text outside the root element")),
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Write `s` as one or more CDATA sections, splitting any `]]>` so the text cannot close the
/// section early: `a]]>b` becomes `<![CDATA[a]]]]><![CDATA[>b]]>`.
pub fn push_cdata(out: &mut String, s: &str) {
    out.push_str("<![CDATA[");
    let mut rest = s;
    while let Some(i) = rest.find("]]>") {
        out.push_str(&rest[..i + 2]);
        out.push_str("]]><![CDATA[");
        rest = &rest[i + 2..];
    }
    out.push_str(rest);
    out.push_str("]]>");
}

/// Write `<name><![CDATA[value]]></name>`.
pub fn push_cdata_field(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    push_cdata(out, value);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Write `<name>value</name>` for a number.
pub fn push_number_field(out: &mut String, name: &str, value: i64) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&value.to_string());
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Element<'_>, WechatError> {
        parse(s.as_bytes())
    }

    #[test]
    fn flat_wechat_message_is_read_with_cdata_and_entities() {
        let e = p("<?xml version=\"1.0\"?><xml><A><![CDATA[x]]></A><B>1 &lt; 2 &#x4E2D;</B><!-- c --></xml>")
            .expect("parse");
        assert_eq!(e.name, "xml");
        assert_eq!(e.text_of("A").ok().flatten(), Some("x"));
        assert_eq!(e.text_of("B").ok().flatten(), Some("1 < 2 中"));
    }

    #[test]
    fn cdata_split_round_trips_through_the_parser() {
        for s in ["plain", "a]]>b", "]]>", "]]]]>>", "x]]>y]]>z", "", "<&>"] {
            let mut out = String::from("<xml>");
            push_cdata_field(&mut out, "C", s);
            out.push_str("</xml>");
            let e = p(&out).expect("parse");
            assert_eq!(e.text_of("C").ok().flatten(), Some(s), "{out}");
        }
    }

    #[test]
    fn duplicate_fields_are_ambiguous() {
        let e = p("<xml><A>1</A><A>2</A></xml>").expect("parse");
        assert!(matches!(e.child("A"), Err(WechatError::XmlMalformed(_))));
    }
}
