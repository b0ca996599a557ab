//! A deliberately small, hostile-input-safe XML reader and the CDATA-safe writer.
//!
//! WeChat XML is a flat `<xml>` element with a few nested lists. We read it into an [`Element`]
//! tree with hard limits and refuse anything a WeChat message never contains: DTDs, entity
//! declarations, references to anything but the five predefined entities and character
//! references, processing instructions. No entity is ever expanded, so XXE and "billion laughs"
//! cannot happen.

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
/// and its child elements in document order. Attributes are ignored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name as written (WeChat uses no namespaces).
    pub name: String,
    /// Concatenated text content.
    pub text: String,
    /// Child elements in order.
    pub children: Vec<Element>,
}

impl Element {
    /// The only child called `name`.
    ///
    /// # Errors
    /// [`WechatError::XmlMalformed`] when it appears more than once (ambiguous input is refused).
    pub fn child(&self, name: &str) -> Result<Option<&Element>, WechatError> {
        let mut it = self.children.iter().filter(|c| c.name == name);
        let first = it.next();
        if it.next().is_some() {
            return Err(WechatError::XmlMalformed("duplicate field"));
        }
        Ok(first)
    }

    /// All children called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Text of the only child called `name`, untrimmed.
    pub fn text_of(&self, name: &str) -> Result<Option<&str>, WechatError> {
        Ok(self.child(name)?.map(|e| e.text.as_str()))
    }
}

/// Parse a WeChat XML document.
///
/// # Errors
/// [`WechatError::XmlTooLarge`], [`WechatError::InvalidUtf8`], [`WechatError::XmlForbidden`],
/// [`WechatError::XmlSyntax`] or [`WechatError::XmlMalformed`].
pub fn parse(input: &[u8]) -> Result<Element, WechatError> {
    if input.len() > MAX_XML_BYTES {
        return Err(WechatError::XmlTooLarge);
    }
    let text = std::str::from_utf8(input).map_err(|_| WechatError::InvalidUtf8)?;
    // Belt and braces: the event loop refuses these too, but a plain scan also catches them
    // inside places the reader might treat as opaque.
    if contains_ignore_ascii_case(input, b"<!DOCTYPE")
        || contains_ignore_ascii_case(input, b"<!ENTITY")
    {
        return Err(WechatError::XmlForbidden);
    }
    let mut reader = Reader::from_str(text);
    reader.config_mut().check_comments = true;

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
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
                stack.push(Element {
                    name: name_of(e.name().as_ref())?,
                    ..Element::default()
                });
            }
            Event::Empty(e) => {
                count += 1;
                if stack.len() >= MAX_DEPTH || count > MAX_ELEMENTS {
                    return Err(WechatError::XmlTooLarge);
                }
                let el = Element {
                    name: name_of(e.name().as_ref())?,
                    ..Element::default()
                };
                attach(&mut stack, &mut root, el);
            }
            Event::End(_) => {
                // quick-xml checks that end names match their start.
                let el = stack
                    .pop()
                    .ok_or(WechatError::XmlMalformed("unbalanced end tag"))?;
                attach(&mut stack, &mut root, el);
            }
            Event::Text(t) => {
                let s = t.decode().map_err(|_| WechatError::InvalidUtf8)?;
                push_text(&mut stack, &s)?;
            }
            Event::CData(c) => {
                let s = c.decode().map_err(|_| WechatError::InvalidUtf8)?;
                if stack.is_empty() {
                    return Err(WechatError::XmlMalformed("text outside the root element"));
                }
                push_text(&mut stack, &s)?;
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
                let mut buf = [0u8; 4];
                push_text(&mut stack, ch.encode_utf8(&mut buf))?;
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
    root.ok_or(WechatError::XmlMalformed("no root element"))
}

fn name_of(raw: &[u8]) -> Result<String, WechatError> {
    std::str::from_utf8(raw)
        .map(str::to_owned)
        .map_err(|_| WechatError::InvalidUtf8)
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, el: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(el),
        None => *root = Some(el),
    }
}

fn push_text(stack: &mut [Element], s: &str) -> Result<(), WechatError> {
    match stack.last_mut() {
        Some(top) => {
            top.text.push_str(s);
            Ok(())
        }
        None if s.trim().is_empty() => Ok(()),
        None => Err(WechatError::XmlMalformed("text outside the root element")),
    }
}

fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

fn contains_ignore_ascii_case(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len())
        .any(|w| w.eq_ignore_ascii_case(needle))
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

    fn p(s: &str) -> Result<Element, WechatError> {
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
