//! Typed inbound messages and events, and the reply builders.

use crate::WechatError;
use crate::xml::{self, Element};

/// One message or event pushed by WeChat to the callback.
#[derive(Debug, Clone, PartialEq)]
pub struct Inbound {
    /// The official account's id (`gh_…`): `ToUserName`.
    pub to_user: String,
    /// The user's openid: `FromUserName`.
    pub from_user: String,
    /// `CreateTime`, seconds since the epoch.
    pub create_time: i64,
    /// `MsgId` for messages (absent for events); use it to deduplicate WeChat's retries.
    pub msg_id: Option<i64>,
    /// What was sent.
    pub body: Body,
}

/// The kinds of messages the platform understands.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    /// `MsgType=text`.
    Text {
        /// The text, exactly as typed.
        content: String,
    },
    /// `MsgType=image`.
    Image {
        /// Temporary URL of the picture.
        pic_url: String,
        /// Media id for `media/get` (valid 3 days).
        media_id: String,
    },
    /// `MsgType=voice`.
    Voice {
        /// Media id for `media/get`.
        media_id: String,
        /// Audio format (`amr`, `speex`).
        format: String,
        /// Speech recognition result when the account has it enabled.
        recognition: Option<String>,
    },
    /// `MsgType=location` (a location the user chose to send).
    Location {
        /// `Location_X`.
        latitude: f64,
        /// `Location_Y`.
        longitude: f64,
        /// Map zoom.
        scale: Option<i64>,
        /// Place description.
        label: String,
    },
    /// `MsgType=event`.
    Event(Event),
    /// A message type this crate does not model (video, link, …); reply "success" to it.
    Unsupported {
        /// The `MsgType` as sent.
        msg_type: String,
    },
}

/// Events pushed to the callback.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The user followed the account; `event_key` is `qrscene_…` when via a QR code.
    Subscribe {
        /// `EventKey`, if any.
        event_key: Option<String>,
        /// `Ticket` of the QR code, if any.
        ticket: Option<String>,
    },
    /// The user unfollowed the account.
    Unsubscribe,
    /// A click on a menu button.
    Click {
        /// The button's key.
        key: String,
    },
    /// A menu link was opened.
    View {
        /// The URL opened.
        url: String,
        /// `MenuId`, if sent.
        menu_id: Option<String>,
    },
    /// Periodic location report (when the user allowed it).
    Location {
        /// `Latitude`.
        latitude: f64,
        /// `Longitude`.
        longitude: f64,
        /// `Precision` in metres.
        precision: Option<f64>,
    },
    /// The user answered a subscription-message prompt.
    SubscribeMsgPopup {
        /// One entry per template in the prompt.
        items: Vec<PopupChoice>,
    },
    /// An event this crate does not model.
    Other {
        /// The `Event` as sent.
        event: String,
    },
}

/// One template's answer in a `subscribe_msg_popup_event`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PopupChoice {
    /// The subscription template id.
    pub template_id: String,
    /// What the user chose.
    pub status: SubscribeStatus,
    /// `PopupScene` (0 link, 1 payment, 2 article …), when sent.
    pub scene: Option<i64>,
}

/// The user's answer for one template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscribeStatus {
    /// `accept`: one notice may be sent with this template.
    Accept,
    /// `reject`.
    Reject,
    /// Anything else WeChat may add (kept, not guessed).
    Other(String),
}

impl SubscribeStatus {
    fn parse(s: &str) -> Self {
        match s {
            "accept" => Self::Accept,
            "reject" => Self::Reject,
            other => Self::Other(other.to_owned()),
        }
    }
}

/// Parse a decrypted (or plain-mode) message document.
///
/// # Errors
/// Any XML error from [`xml::parse`], or [`WechatError::XmlMalformed`] when the root is not
/// `<xml>` or a required field is missing or not a number.
pub fn parse_inbound(doc: &[u8]) -> Result<Inbound, WechatError> {
    let root = xml::parse(doc)?;
    inbound_from_element(&root)
}

/// Map an already parsed `<xml>` element (see [`parse_inbound`]).
///
/// # Errors
/// [`WechatError::XmlMalformed`] as for [`parse_inbound`].
pub fn inbound_from_element(root: &Element) -> Result<Inbound, WechatError> {
    if root.name != "xml" {
        return Err(WechatError::XmlMalformed("root is not <xml>"));
    }
    let to_user = required(root, "ToUserName")?.trim().to_owned();
    let from_user = required(root, "FromUserName")?.trim().to_owned();
    let create_time =
        number(root, "CreateTime")?.ok_or_else(|| WechatError::XmlMalformed("CreateTime"))?;
    let msg_id = number(root, "MsgId")?;
    let msg_type = required(root, "MsgType")?.trim();
    let body = match msg_type {
        "text" => Body::Text {
            content: required(root, "Content")?.to_owned(),
        },
        "image" => Body::Image {
            pic_url: optional(root, "PicUrl")?.unwrap_or_default(),
            media_id: required(root, "MediaId")?.trim().to_owned(),
        },
        "voice" => Body::Voice {
            media_id: required(root, "MediaId")?.trim().to_owned(),
            format: optional(root, "Format")?.unwrap_or_default(),
            recognition: optional(root, "Recognition")?,
        },
        "location" => Body::Location {
            latitude: float(root, "Location_X")?
                .ok_or_else(|| WechatError::XmlMalformed("Location_X"))?,
            longitude: float(root, "Location_Y")?
                .ok_or_else(|| WechatError::XmlMalformed("Location_Y"))?,
            scale: number(root, "Scale")?,
            label: optional(root, "Label")?.unwrap_or_default(),
        },
        "event" => Body::Event(event(root)?),
        other => Body::Unsupported {
            msg_type: other.to_owned(),
        },
    };
    Ok(Inbound {
        to_user,
        from_user,
        create_time,
        msg_id,
        body,
    })
}

fn event(root: &Element) -> Result<Event, WechatError> {
    let name = required(root, "Event")?.trim();
    Ok(match name {
        "subscribe" => Event::Subscribe {
            event_key: optional(root, "EventKey")?.filter(|s| !s.is_empty()),
            ticket: optional(root, "Ticket")?.filter(|s| !s.is_empty()),
        },
        "unsubscribe" => Event::Unsubscribe,
        "CLICK" => Event::Click {
            key: optional(root, "EventKey")?.unwrap_or_default(),
        },
        "VIEW" => Event::View {
            url: optional(root, "EventKey")?.unwrap_or_default(),
            menu_id: optional(root, "MenuId")?,
        },
        "LOCATION" => Event::Location {
            latitude: float(root, "Latitude")?
                .ok_or_else(|| WechatError::XmlMalformed("Latitude"))?,
            longitude: float(root, "Longitude")?
                .ok_or_else(|| WechatError::XmlMalformed("Longitude"))?,
            precision: float(root, "Precision")?,
        },
        "subscribe_msg_popup_event" => {
            let list = root
                .child("SubscribeMsgPopupEvent")?
                .ok_or_else(|| WechatError::XmlMalformed("SubscribeMsgPopupEvent"))?;
            let mut items = Vec::new();
            for item in list.children_named("List") {
                items.push(PopupChoice {
                    template_id: required(item, "TemplateId")?.trim().to_owned(),
                    status: SubscribeStatus::parse(required(item, "SubscribeStatusString")?.trim()),
                    scene: number(item, "PopupScene")?,
                });
            }
            Event::SubscribeMsgPopup { items }
        }
        other => Event::Other {
            event: other.to_owned(),
        },
    })
}

fn required<'a>(el: &'a Element, name: &'static str) -> Result<&'a str, WechatError> {
    el.text_of(name)?
        .ok_or_else(|| WechatError::XmlMalformed(name))
}

fn optional(el: &Element, name: &'static str) -> Result<Option<String>, WechatError> {
    Ok(el.text_of(name)?.map(|s| s.trim().to_owned()))
}

fn number(el: &Element, name: &'static str) -> Result<Option<i64>, WechatError> {
    match el.text_of(name)? {
        None => Ok(None),
        Some(s) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| WechatError::XmlMalformed(name)),
    }
}

fn float(el: &Element, name: &'static str) -> Result<Option<f64>, WechatError> {
    match el.text_of(name)? {
        None => Ok(None),
        Some(s) => match s.trim().parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(Some(v)),
            _ => Err(WechatError::XmlMalformed(name)),
        },
    }
}

impl Inbound {
    /// Render the message as WeChat pushes it (the inverse of [`parse_inbound`]). Used by the
    /// simulator and by tests; `Unsupported` and `Event::Other` render with just their type.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(256);
        out.push_str("<xml>");
        xml::push_cdata_field(&mut out, "ToUserName", &self.to_user);
        xml::push_cdata_field(&mut out, "FromUserName", &self.from_user);
        xml::push_number_field(&mut out, "CreateTime", self.create_time);
        match &self.body {
            Body::Text { content } => {
                xml::push_cdata_field(&mut out, "MsgType", "text");
                xml::push_cdata_field(&mut out, "Content", content);
            }
            Body::Image { pic_url, media_id } => {
                xml::push_cdata_field(&mut out, "MsgType", "image");
                xml::push_cdata_field(&mut out, "PicUrl", pic_url);
                xml::push_cdata_field(&mut out, "MediaId", media_id);
            }
            Body::Voice {
                media_id,
                format,
                recognition,
            } => {
                xml::push_cdata_field(&mut out, "MsgType", "voice");
                xml::push_cdata_field(&mut out, "MediaId", media_id);
                xml::push_cdata_field(&mut out, "Format", format);
                if let Some(r) = recognition {
                    xml::push_cdata_field(&mut out, "Recognition", r);
                }
            }
            Body::Location {
                latitude,
                longitude,
                scale,
                label,
            } => {
                xml::push_cdata_field(&mut out, "MsgType", "location");
                push_plain_field(&mut out, "Location_X", &latitude.to_string());
                push_plain_field(&mut out, "Location_Y", &longitude.to_string());
                if let Some(s) = scale {
                    xml::push_number_field(&mut out, "Scale", *s);
                }
                xml::push_cdata_field(&mut out, "Label", label);
            }
            Body::Event(ev) => {
                xml::push_cdata_field(&mut out, "MsgType", "event");
                push_event(&mut out, ev);
            }
            Body::Unsupported { msg_type } => {
                xml::push_cdata_field(&mut out, "MsgType", msg_type);
            }
        }
        if let Some(id) = self.msg_id {
            xml::push_number_field(&mut out, "MsgId", id);
        }
        out.push_str("</xml>");
        out
    }
}

fn push_plain_field(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(value);
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

fn push_event(out: &mut String, ev: &Event) {
    match ev {
        Event::Subscribe { event_key, ticket } => {
            xml::push_cdata_field(out, "Event", "subscribe");
            if let Some(k) = event_key {
                xml::push_cdata_field(out, "EventKey", k);
            }
            if let Some(t) = ticket {
                xml::push_cdata_field(out, "Ticket", t);
            }
        }
        Event::Unsubscribe => xml::push_cdata_field(out, "Event", "unsubscribe"),
        Event::Click { key } => {
            xml::push_cdata_field(out, "Event", "CLICK");
            xml::push_cdata_field(out, "EventKey", key);
        }
        Event::View { url, menu_id } => {
            xml::push_cdata_field(out, "Event", "VIEW");
            xml::push_cdata_field(out, "EventKey", url);
            if let Some(m) = menu_id {
                xml::push_cdata_field(out, "MenuId", m);
            }
        }
        Event::Location {
            latitude,
            longitude,
            precision,
        } => {
            xml::push_cdata_field(out, "Event", "LOCATION");
            push_plain_field(out, "Latitude", &latitude.to_string());
            push_plain_field(out, "Longitude", &longitude.to_string());
            if let Some(p) = precision {
                push_plain_field(out, "Precision", &p.to_string());
            }
        }
        Event::SubscribeMsgPopup { items } => {
            xml::push_cdata_field(out, "Event", "subscribe_msg_popup_event");
            out.push_str("<SubscribeMsgPopupEvent>");
            for it in items {
                out.push_str("<List>");
                xml::push_cdata_field(out, "TemplateId", &it.template_id);
                let status = match &it.status {
                    SubscribeStatus::Accept => "accept",
                    SubscribeStatus::Reject => "reject",
                    SubscribeStatus::Other(s) => s,
                };
                xml::push_cdata_field(out, "SubscribeStatusString", status);
                if let Some(s) = it.scene {
                    xml::push_number_field(out, "PopupScene", s);
                }
                out.push_str("</List>");
            }
            out.push_str("</SubscribeMsgPopupEvent>");
        }
        Event::Other { event } => xml::push_cdata_field(out, "Event", event),
    }
}

/// A passive text reply (shown to the user in the chat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextReply<'a> {
    /// The user's openid (the inbound `FromUserName`).
    pub to_user: &'a str,
    /// The account id (the inbound `ToUserName`).
    pub from_user: &'a str,
    /// Seconds since the epoch.
    pub create_time: i64,
    /// The text; any `]]>` is split so it cannot break out of CDATA.
    pub content: &'a str,
}

impl TextReply<'_> {
    /// Render the reply XML.
    pub fn to_xml(&self) -> String {
        let mut out = String::with_capacity(160 + self.content.len());
        out.push_str("<xml>");
        xml::push_cdata_field(&mut out, "ToUserName", self.to_user);
        xml::push_cdata_field(&mut out, "FromUserName", self.from_user);
        xml::push_number_field(&mut out, "CreateTime", self.create_time);
        xml::push_cdata_field(&mut out, "MsgType", "text");
        xml::push_cdata_field(&mut out, "Content", self.content);
        out.push_str("</xml>");
        out
    }
}

/// A passive reply as read back (by the simulator, or by tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// `ToUserName`.
    pub to_user: String,
    /// `FromUserName`.
    pub from_user: String,
    /// `CreateTime`.
    pub create_time: i64,
    /// `MsgType`.
    pub msg_type: String,
    /// `Content` for text replies.
    pub content: Option<String>,
}

/// Parse a passive reply document (plain, or decrypted from the safe-mode envelope).
///
/// # Errors
/// As for [`parse_inbound`].
pub fn parse_reply(doc: &[u8]) -> Result<Reply, WechatError> {
    let root = xml::parse(doc)?;
    if root.name != "xml" {
        return Err(WechatError::XmlMalformed("root is not <xml>"));
    }
    Ok(Reply {
        to_user: required(&root, "ToUserName")?.trim().to_owned(),
        from_user: required(&root, "FromUserName")?.trim().to_owned(),
        create_time: number(&root, "CreateTime")?
            .ok_or_else(|| WechatError::XmlMalformed("CreateTime"))?,
        msg_type: required(&root, "MsgType")?.trim().to_owned(),
        content: root.text_of("Content")?.map(str::to_owned),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_message_keeps_its_content_untrimmed() {
        let m = parse_inbound(
            b"<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o1]]></FromUserName>\
              <CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType>\
              <Content><![CDATA[ \xe4\xb8\xbe\xe6\x8a\xa5 ]]></Content><MsgId>1234567890123456</MsgId></xml>",
        )
        .expect("parse");
        assert_eq!(m.from_user, "o1");
        assert_eq!(m.msg_id, Some(1234567890123456));
        assert_eq!(
            m.body,
            Body::Text {
                content: " 举报 ".into()
            }
        );
    }

    #[test]
    fn popup_event_lists_every_template_choice() {
        let m = parse_inbound(
            br#"<xml><ToUserName><![CDATA[gh_123456789abc]]></ToUserName><FromUserName><![CDATA[otFpruAK8D-E6EfStSYonYSBZ8_4]]></FromUserName><CreateTime>1610969440</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent><List><TemplateId><![CDATA[VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List><List><TemplateId><![CDATA[9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List></SubscribeMsgPopupEvent></xml>"#,
        )
        .expect("parse");
        let Body::Event(Event::SubscribeMsgPopup { items }) = m.body else {
            panic!("not a popup event");
        };
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].status, SubscribeStatus::Accept);
        assert_eq!(items[1].status, SubscribeStatus::Reject);
        assert_eq!(items[1].scene, Some(2));
    }

    #[test]
    fn text_reply_escapes_cdata_terminators() {
        let xml = TextReply {
            to_user: "o1",
            from_user: "gh_1",
            create_time: 1,
            content: "a]]><x/>",
        }
        .to_xml();
        let r = parse_reply(xml.as_bytes()).expect("parse");
        assert_eq!(r.content.as_deref(), Some("a]]><x/>"));
        assert_eq!(r.msg_type, "text");
    }
}
