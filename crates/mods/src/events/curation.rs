//! What players and curators say about releases: reviews with a rating (30081), compatibility
//! reports (30082), bug reports (30084) and support messages (30080). Each names its release (or
//! project) in an `a` tag, so one relay query by address gathers them all.

use nostr::prelude::{Event, EventBuilder, Kind, PublicKey};
use seedstr_proto::release::{check_game_version, parse_project_address, Coordinate};

use super::tags::{tag, EventReadError, ReleaseRef, Tags};
use super::{BUG_KIND, COMPAT_KIND, REVIEW_KIND, SUPPORT_KIND};

/// A review: one per reviewer per release (its `d` is the release's), the newest wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The release it is about.
    pub release: ReleaseRef,
    /// 1 to 5.
    pub rating: u8,
    /// The words.
    pub text: String,
}

impl Review {
    /// The unsigned event.
    pub fn to_builder(&self) -> EventBuilder {
        EventBuilder::new(Kind::from(REVIEW_KIND), &self.text).tags([
            tag(["d", &self.release.d()]),
            tag(["a", &self.release.address()]),
            tag(["rating", &self.rating.to_string()]),
            tag([
                "alt",
                &format!("Review of {}: {}/5", self.release.d(), self.rating),
            ]),
        ])
    }

    /// Reads and checks a review event.
    pub fn from_event(event: &Event) -> Result<Review, EventReadError> {
        let t = Tags::of(event, REVIEW_KIND, "review (30081)")?;
        let release = ReleaseRef::from_tags(&t)?;
        let rating = t.one("rating")?;
        let rating = rating
            .parse::<u8>()
            .ok()
            .filter(|r| (1..=5).contains(r))
            .ok_or_else(|| {
                t.bad(
                    "rating",
                    format!("{rating:?} is not a whole number from 1 to 5"),
                )
            })?;
        Ok(Review {
            release,
            rating,
            text: event.content.clone(),
        })
    }
}

/// How a release behaved on a game version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CompatStatus {
    /// It works.
    Works,
    /// It works, with problems.
    Issues,
    /// It does not work.
    Broken,
}

impl CompatStatus {
    /// The word the `status` tag carries.
    pub fn as_str(self) -> &'static str {
        match self {
            CompatStatus::Works => "works",
            CompatStatus::Issues => "issues",
            CompatStatus::Broken => "broken",
        }
    }

    /// Reads the `status` tag's word.
    pub fn parse(s: &str) -> Option<CompatStatus> {
        Some(match s {
            "works" => CompatStatus::Works,
            "issues" => CompatStatus::Issues,
            "broken" => CompatStatus::Broken,
            _ => return None,
        })
    }
}

/// How a release behaved on a game version, maybe alongside other releases. One per reporter
/// per release and game version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompatReport {
    /// The release it is about.
    pub release: ReleaseRef,
    /// The game version.
    pub game_version: String,
    /// Its status.
    pub status: CompatStatus,
    /// Releases it was tested together with.
    pub with: Vec<ReleaseRef>,
    /// Notes for people.
    pub notes: String,
}

impl CompatReport {
    /// The unsigned event.
    pub fn to_builder(&self) -> EventBuilder {
        let mut tags = vec![
            tag(["d", &format!("{}:{}", self.release.d(), self.game_version)]),
            tag(["a", &self.release.address()]),
            tag(["game-version", &self.game_version]),
            tag(["status", self.status.as_str()]),
            tag([
                "alt",
                &format!(
                    "Compatibility of {} on {}: {}",
                    self.release.d(),
                    self.game_version,
                    self.status.as_str()
                ),
            ]),
        ];
        tags.extend(self.with.iter().map(|w| tag(["with", &w.address()])));
        EventBuilder::new(Kind::from(COMPAT_KIND), &self.notes).tags(tags)
    }

    /// Reads and checks a compatibility report.
    pub fn from_event(event: &Event) -> Result<CompatReport, EventReadError> {
        let t = Tags::of(event, COMPAT_KIND, "compatibility report (30082)")?;
        let release = ReleaseRef::from_tags(&t)?;
        let game_version = t.one("game-version")?;
        check_game_version(game_version).map_err(|e| t.bad("game-version", e.to_string()))?;
        let status = t.one("status")?;
        let status = CompatStatus::parse(status).ok_or_else(|| {
            t.bad(
                "status",
                format!("{status:?} is not works, issues or broken"),
            )
        })?;
        let mut with = Vec::new();
        for w in t.all("with") {
            let a = w.get(1).map(String::as_str).unwrap_or_default();
            with.push(
                ReleaseRef::parse_address(a)
                    .map_err(|_| t.bad("with", format!("{a:?} is not a release address")))?,
            );
        }
        Ok(CompatReport {
            release,
            game_version: game_version.to_owned(),
            status,
            with,
            notes: event.content.clone(),
        })
    }
}

/// Where a bug stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BugStatus {
    /// Reported.
    Open,
    /// Seen by the author.
    Confirmed,
    /// Fixed.
    Fixed,
    /// Not to be fixed.
    WontFix,
}

impl BugStatus {
    /// The word the `status` tag carries.
    pub fn as_str(self) -> &'static str {
        match self {
            BugStatus::Open => "open",
            BugStatus::Confirmed => "confirmed",
            BugStatus::Fixed => "fixed",
            BugStatus::WontFix => "wontfix",
        }
    }

    /// Reads the `status` tag's word.
    pub fn parse(s: &str) -> Option<BugStatus> {
        Some(match s {
            "open" => BugStatus::Open,
            "confirmed" => BugStatus::Confirmed,
            "fixed" => BugStatus::Fixed,
            "wontfix" => BugStatus::WontFix,
            _ => return None,
        })
    }
}

/// A bug report; its reporter updates it by signing the same `d` again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BugReport {
    /// The release it is about.
    pub release: ReleaseRef,
    /// Chosen by the reporter; unique among their reports on this release.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: BugStatus,
    /// The words.
    pub text: String,
}

impl BugReport {
    /// The unsigned event.
    pub fn to_builder(&self) -> EventBuilder {
        EventBuilder::new(Kind::from(BUG_KIND), &self.text).tags([
            tag(["d", &format!("{}:bug:{}", self.release.d(), self.id)]),
            tag(["a", &self.release.address()]),
            tag(["title", &self.title]),
            tag(["status", self.status.as_str()]),
            tag([
                "alt",
                &format!("Bug report on {}: {}", self.release.d(), self.title),
            ]),
        ])
    }

    /// Reads and checks a bug report.
    pub fn from_event(event: &Event) -> Result<BugReport, EventReadError> {
        let t = Tags::of(event, BUG_KIND, "bug report (30084)")?;
        let release = ReleaseRef::from_tags(&t)?;
        let d = t.one("d")?;
        let id = d
            .strip_prefix(&format!("{}:bug:", release.d()))
            .filter(|id| !id.is_empty())
            .ok_or_else(|| t.bad("d", format!("{d:?} is not {}:bug:<id>", release.d())))?;
        let status = t.one("status")?;
        let status = BugStatus::parse(status).ok_or_else(|| {
            t.bad(
                "status",
                format!("{status:?} is not open, confirmed, fixed or wontfix"),
            )
        })?;
        Ok(BugReport {
            id: id.to_owned(),
            release,
            title: t.one("title")?.to_owned(),
            status,
            text: event.content.clone(),
        })
    }
}

/// A message of support (thanks, a note with a tip) to a project's author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SupportMessage {
    /// The project's author.
    pub project_author: PublicKey,
    /// The project.
    pub coordinate: Coordinate,
    /// Names the message among the sender's.
    pub id: String,
    /// The words.
    pub text: String,
}

impl SupportMessage {
    /// The unsigned event.
    pub fn to_builder(&self) -> EventBuilder {
        EventBuilder::new(Kind::from(SUPPORT_KIND), &self.text).tags([
            tag(["d", &format!("{}:support:{}", self.coordinate, self.id)]),
            tag(["a", &self.coordinate.project_address(&self.project_author)]),
            tag(["p", &self.project_author.to_hex()]),
            tag(["alt", &format!("Support message for {}", self.coordinate)]),
        ])
    }

    /// Reads and checks a support message.
    pub fn from_event(event: &Event) -> Result<SupportMessage, EventReadError> {
        let t = Tags::of(event, SUPPORT_KIND, "support message (30080)")?;
        let a = t.one("a")?;
        let (project_author, coordinate) = parse_project_address(a)
            .map_err(|_| t.bad("a", format!("{a:?} is not a project address")))?;
        let d = t.one("d")?;
        let id = d
            .strip_prefix(&format!("{coordinate}:support:"))
            .ok_or_else(|| t.bad("d", format!("{d:?} is not {coordinate}:support:<id>")))?;
        Ok(SupportMessage {
            project_author,
            coordinate,
            id: id.to_owned(),
            text: event.content.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{FinalizeEvent as _, Keys};
    use seedstr_proto::release::Version;

    fn release(author: &Keys) -> ReleaseRef {
        ReleaseRef {
            author: author.public_key(),
            coordinate: Coordinate::new("skyrim-se", "trees").unwrap(),
            version: Version::new(1, 0, 0),
        }
    }

    #[test]
    fn curation_events_round_trip() {
        let author = Keys::generate();
        let curator = Keys::generate();
        let r = Review {
            release: release(&author),
            rating: 4,
            text: "Lovely".into(),
        };
        assert_eq!(
            Review::from_event(&r.to_builder().finalize(&curator).unwrap()).unwrap(),
            r
        );
        let c = CompatReport {
            release: release(&author),
            game_version: "1.6.1170".into(),
            status: CompatStatus::Issues,
            with: vec![release(&curator)],
            notes: "flicker".into(),
        };
        assert_eq!(
            CompatReport::from_event(&c.to_builder().finalize(&curator).unwrap()).unwrap(),
            c
        );
        let b = BugReport {
            release: release(&author),
            id: "1".into(),
            title: "Crash at Whiterun".into(),
            status: BugStatus::Open,
            text: "Steps…".into(),
        };
        assert_eq!(
            BugReport::from_event(&b.to_builder().finalize(&curator).unwrap()).unwrap(),
            b
        );
        let s = SupportMessage {
            project_author: author.public_key(),
            coordinate: Coordinate::new("skyrim-se", "trees").unwrap(),
            id: "x".into(),
            text: "Thanks!".into(),
        };
        assert_eq!(
            SupportMessage::from_event(&s.to_builder().finalize(&curator).unwrap()).unwrap(),
            s
        );
    }

    #[test]
    fn a_rating_out_of_range_is_named() {
        let author = Keys::generate();
        let r = Review {
            release: release(&author),
            rating: 9,
            text: String::new(),
        };
        let e = Review::from_event(&r.to_builder().finalize(&author).unwrap()).unwrap_err();
        assert!(
            e.to_string()
                .contains("\"9\" is not a whole number from 1 to 5"),
            "{e}"
        );
    }
}
