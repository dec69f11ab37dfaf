//! A mirror's offer to be named (30088): it seeds a project's releases and asks the author to
//! share the project's tips with it (NIP-57 Appendix G zap splits). The author decides; an
//! offer pays nobody by itself.

use nostr::prelude::{Event, EventBuilder, Kind, PublicKey};
use seedstr_proto::release::{parse_project_address, parse_version, Coordinate, Version};

use super::tags::{tag, EventReadError, Tags};
use super::SEEDER_OFFER_KIND;

/// A mirror's offer to be named in a project's splits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeederOffer {
    /// The project's author.
    pub project_author: PublicKey,
    /// The project.
    pub coordinate: Coordinate,
    /// The versions the mirror seeds.
    pub versions: Vec<Version>,
    /// A word to the author.
    pub text: String,
}

impl SeederOffer {
    /// `<ns>.<slug>:seeder:<author hex>`: one offer per mirror and project.
    pub fn d(&self) -> String {
        format!(
            "{}:seeder:{}",
            self.coordinate,
            self.project_author.to_hex()
        )
    }

    /// The unsigned event.
    pub fn to_builder(&self) -> EventBuilder {
        let mut tags = vec![
            tag(["d", &self.d()]),
            tag(["a", &self.coordinate.project_address(&self.project_author)]),
            tag(["p", &self.project_author.to_hex()]),
            tag([
                "alt",
                &format!("Seedstr mirror offering to seed {}", self.coordinate),
            ]),
        ];
        tags.extend(
            self.versions
                .iter()
                .map(|v| tag(["version", &v.to_string()])),
        );
        EventBuilder::new(Kind::from(SEEDER_OFFER_KIND), &self.text).tags(tags)
    }

    /// Reads and checks an offer.
    pub fn from_event(event: &Event) -> Result<SeederOffer, EventReadError> {
        let t = Tags::of(event, SEEDER_OFFER_KIND, "seeder offer (30088)")?;
        let a = t.one("a")?;
        let (project_author, coordinate) = parse_project_address(a)
            .map_err(|_| t.bad("a", format!("{a:?} is not a project address")))?;
        let offer = SeederOffer {
            project_author,
            coordinate,
            versions: Vec::new(),
            text: event.content.clone(),
        };
        if t.one("d")? != offer.d() {
            return Err(t.bad("d", format!("expected {:?}", offer.d())));
        }
        if t.one("p")? != project_author.to_hex() {
            return Err(t.bad("p", "is not the project's author"));
        }
        let mut versions = Vec::new();
        for v in t.all("version") {
            let text = v.get(1).map(String::as_str).unwrap_or_default();
            versions.push(
                parse_version(text)
                    .map_err(|_| t.bad("version", format!("{text:?} is not a version")))?,
            );
        }
        Ok(SeederOffer { versions, ..offer })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nostr::prelude::{FinalizeEvent as _, Keys};

    #[test]
    fn an_offer_round_trips_and_a_wrong_one_is_named() {
        let (author, mirror) = (Keys::generate(), Keys::generate());
        let offer = SeederOffer {
            project_author: author.public_key(),
            coordinate: Coordinate::new("skyrim-se", "lamps").unwrap(),
            versions: vec![Version::new(1, 0, 0), Version::new(1, 1, 0)],
            text: "seeding from a 1 Gbit/s box".into(),
        };
        let e = offer.to_builder().finalize(&mirror).unwrap();
        assert_eq!(SeederOffer::from_event(&e).unwrap(), offer);
        // Naming someone else than the project's author.
        let wrong_p = EventBuilder::new(Kind::from(SEEDER_OFFER_KIND), "")
            .tags([
                tag(["d", &offer.d()]),
                tag(["a", &offer.coordinate.project_address(&author.public_key())]),
                tag(["p", &mirror.public_key().to_hex()]),
            ])
            .finalize(&mirror)
            .unwrap();
        let err = SeederOffer::from_event(&wrong_p).unwrap_err().to_string();
        assert!(err.contains("is not the project's author"), "{err}");
    }
}
