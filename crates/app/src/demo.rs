//! The demo organization: users of every role, four projects of different task types filled with sample data
//! written here (no download), an image project whose pictures are drawn here and uploaded through the
//! MediaStore (when the app has one), a few answers already in so that stats and exports show something, and a
//! staffing vendor with a manager and two workers of its own in the lab (the vendor console has something to show).
//!
//! Running it again reuses what exists (users, projects, items by external id) and issues fresh tokens.

use std::io::Write;
use std::sync::Arc;

use fairloop_domain::Role;
use fairloop_domain::template::examples;
use fairloop_formats::ImportFormat;
use fairloop_store::{Principal, User};
use serde_json::{Value, json};

use crate::import::{ImportMode, ImportProgress};
use crate::projects::{CreateProject, Pay};
use crate::work::SubmitBody;
use crate::{App, AppError, AppResult};

/// The demo organization's name.
pub const DEMO_ORG: &str = "Demo Lab";

/// The password of every demo user (for the web app's sign-in).
pub const DEMO_PASSWORD: &str = "fairloop-demo";

/// The demo's staffing vendor (docs/vendors.md), contracted by [`DEMO_ORG`].
pub const DEMO_VENDOR: &str = "Acme Staffing";

/// The vendor's manager (an admin of the vendor organization), who sees the vendor's workers at `/vendors`.
pub const DEMO_VENDOR_MANAGER: &str = "vendor@demo.fairloop.test";

/// The vendor's two workers: users of the Demo Lab who joined through the vendor's invitation links.
pub const VENDOR_WORKERS: [(&str, &str); 2] = [
    ("acme1@demo.fairloop.test", "Lena Park (Acme Staffing)"),
    ("acme2@demo.fairloop.test", "Tomás Ruiz (Acme Staffing)"),
];

/// What the demo created, for printing.
#[derive(Debug, Clone)]
pub struct DemoSummary {
    /// Each demo user with a fresh API token (the lab's users, then the vendor's manager).
    pub users: Vec<(User, String)>,
    /// Each demo project: id, name, items.
    pub projects: Vec<(i64, String, u64)>,
}

const USERS: [(&str, &str, Role); 6] = [
    ("admin@demo.fairloop.test", "Ada Admin", Role::Admin),
    (
        "requester@demo.fairloop.test",
        "Rosa Requester",
        Role::Requester,
    ),
    (
        "reviewer@demo.fairloop.test",
        "Remi Reviewer",
        Role::Reviewer,
    ),
    (
        "worker1@demo.fairloop.test",
        "Dr. Wen Li (dermatology)",
        Role::Worker,
    ),
    (
        "worker2@demo.fairloop.test",
        "Sam Okafor (linguistics)",
        Role::Worker,
    ),
    (
        "worker3@demo.fairloop.test",
        "Priya Nair (software)",
        Role::Worker,
    ),
];

fn principal(u: &User) -> Principal {
    Principal {
        user_id: u.id,
        org_id: u.org_id,
        role: u.role,
        email: u.email.clone(),
    }
}

fn example(name: &str) -> Value {
    examples()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .expect("gallery example exists")
}

impl App {
    /// Creates (or reuses) the demo organization and returns its users, tokens and projects.
    pub async fn seed_demo(&self) -> AppResult<DemoSummary> {
        let mut users = Vec::new();
        for (email, name, role) in USERS {
            users.push(
                self.add_user(DEMO_ORG, email, name, role, Some(DEMO_PASSWORD))
                    .await?,
            );
        }
        let requester = principal(&users[1].0);
        let specs: [(&str, &str, u32, Pay, Vec<Value>); 4] = [
            (
                "Compare two LLM answers",
                "llm_pairwise_rubric",
                2,
                Pay::PerTask {
                    amount_minor: 180,
                    currency: "USD".into(),
                },
                pairwise_items(),
            ),
            (
                "Classify product reviews",
                "text_classification",
                3,
                Pay::PerTask {
                    amount_minor: 8,
                    currency: "USD".into(),
                },
                review_items(),
            ),
            (
                "Named entities in news",
                "named_entities",
                2,
                Pay::Hourly {
                    rate_minor: 2800,
                    currency: "USD".into(),
                },
                entity_items(),
            ),
            (
                "Rank three answers",
                "response_ranking",
                2,
                Pay::PerTask {
                    amount_minor: 120,
                    currency: "USD".into(),
                },
                ranking_items(),
            ),
        ];
        let mut projects = Vec::new();
        for (name, template, overlap, pay, items) in specs {
            let project = match self.store.project_by_name(requester.org_id, name).await? {
                Some(p) => p,
                None => {
                    self.create_project(
                        &requester,
                        CreateProject {
                            name: name.into(),
                            template: example(template),
                            overlap: Some(overlap),
                            lease_seconds: None,
                            max_open_per_worker: None,
                            pay: Some(pay),
                            budget_minor: None,
                            gold_rate: None,
                            adaptive_overlap: None,
                            state: None,
                            // The expert comparison pays for reading its guidelines (up to 60 minutes).
                            onboarding_pay: (template == "llm_pairwise_rubric").then_some(
                                crate::onboarding::OnboardingPay {
                                    rate_minor: 3000,
                                    max_minutes: None,
                                },
                            ),
                            requirements: None,
                            wellbeing: None,
                        },
                    )
                    .await?
                }
            };
            if self
                .store
                .latest_guidelines(requester.org_id, project.id)
                .await?
                .is_none()
            {
                self.set_guidelines(
                    &requester,
                    project.id,
                    &demo_guidelines(name),
                    Some("first version"),
                )
                .await?;
            }
            if name == "Named entities in news"
                && self
                    .store
                    .current_terms(requester.org_id, project.id)
                    .await?
                    .is_none()
            {
                self.publish_terms(&requester, project.id, demo_terms())
                    .await?;
            }
            let mut file = tempfile_in_temp()?;
            for item in &items {
                writeln!(file.1, "{item}")
                    .map_err(|e| AppError::Internal(format!("demo data: {e}")))?;
            }
            file.1
                .flush()
                .map_err(|e| AppError::Internal(format!("demo data: {e}")))?;
            let report = self
                .import_file(
                    &requester,
                    project.id,
                    file.0.clone(),
                    ImportFormat::Jsonl,
                    ImportMode::Atomic,
                    Arc::new(ImportProgress::default()),
                )
                .await?;
            let _ = std::fs::remove_file(&file.0);
            if report.rejected {
                return Err(AppError::Internal(format!(
                    "demo data for {name} is invalid: {:?}",
                    report.errors
                )));
            }
            if report.imported > 0 && template == "text_classification" {
                self.seed_review_answers(&users, project.id).await?;
            }
            projects.push((project.id, name.to_string(), items.len() as u64));
        }
        if self.media.is_configured() {
            projects.push(self.seed_image_project(&users).await?);
        }
        let reviews = projects
            .iter()
            .find(|(_, name, _)| name == "Classify product reviews")
            .map(|(id, _, _)| *id);
        users.push(self.seed_vendor(&users[0].0, reviews).await?);
        Ok(DemoSummary { users, projects })
    }

    /// The staffing vendor: [`DEMO_VENDOR`] with its manager [`DEMO_VENDOR_MANAGER`], contracted by the Demo Lab,
    /// and two workers who joined the lab through the vendor's invitation links (so they are the lab's users
    /// tagged with the vendor, docs/vendors.md) and answered a few product reviews, so the vendor console shows
    /// work, time and pay. Answers the manager with a fresh API token. On a second run the workers exist and are
    /// left as they are.
    async fn seed_vendor(
        &self,
        lab_admin: &User,
        reviews: Option<i64>,
    ) -> AppResult<(User, String)> {
        let manager = self
            .create_vendor(
                DEMO_VENDOR,
                DEMO_VENDOR_MANAGER,
                "Val Vendor (Acme Staffing)",
                Some(DEMO_PASSWORD),
            )
            .await?;
        let lab = principal(lab_admin);
        self.contract_vendor(&lab, DEMO_VENDOR).await?;
        let vendor = principal(&manager.0);
        for (email, name) in VENDOR_WORKERS {
            if self.store.user_by_email(email).await?.is_some() {
                continue;
            }
            let invited = self
                .vendor_invite(&vendor, lab.org_id, Some(email), None)
                .await?;
            let joined = self
                .accept_invitation(
                    &invited.token,
                    crate::invitations::AcceptInput {
                        email: email.into(),
                        name: name.into(),
                        password: DEMO_PASSWORD.into(),
                        confirm: DEMO_PASSWORD.into(),
                    },
                )
                .await?;
            if let Some(project) = reviews {
                self.answer_reviews(&principal(&joined.user), project, 3)
                    .await?;
            }
        }
        Ok(manager)
    }

    /// The image project: street scenes drawn in code ([`fairloop_media::synth`]) uploaded through the
    /// MediaStore like any upload (so they are probed, thumbnailed and served by `/media`), items that refer to
    /// them by key (which records `media_refs`, so workers who take the work may load them), and the first
    /// scenes answered by two workers with boxes on the drawn objects, so agreement, review and the COCO and
    /// YOLO exports show real shapes on real pictures.
    async fn seed_image_project(&self, users: &[(User, String)]) -> AppResult<(i64, String, u64)> {
        const NAME: &str = "Vehicles and people in street scenes";
        const SCENES: u32 = 6;
        let requester = principal(&users[1].0);
        let mut truth = Vec::new();
        for i in 1..=SCENES {
            let (png, objects) = fairloop_media::synth::street_scene(i, 640, 400);
            let mut file = tempfile_in_temp()?;
            file.1
                .write_all(&png)
                .and_then(|_| file.1.flush())
                .map_err(|e| AppError::Internal(format!("demo image: {e}")))?;
            let uploaded = self
                .upload_media(
                    &requester,
                    &file.0,
                    crate::media::UploadRequest {
                        key: Some(format!("demo/street-{i}.png")),
                        original_name: Some(format!("street-{i}.png")),
                    },
                )
                .await;
            let _ = std::fs::remove_file(&file.0);
            uploaded?;
            truth.push(objects);
        }
        let project = match self.store.project_by_name(requester.org_id, NAME).await? {
            Some(p) => p,
            None => {
                self.create_project(
                    &requester,
                    CreateProject {
                        name: NAME.into(),
                        template: example("image_boxes"),
                        overlap: Some(2),
                        lease_seconds: None,
                        max_open_per_worker: None,
                        pay: Some(Pay::PerTask {
                            amount_minor: 25,
                            currency: "USD".into(),
                        }),
                        budget_minor: None,
                        gold_rate: None,
                        adaptive_overlap: None,
                        state: None,
                        onboarding_pay: None,
                        wellbeing: None,
                        requirements: None,
                    },
                )
                .await?
            }
        };
        if self
            .store
            .latest_guidelines(requester.org_id, project.id)
            .await?
            .is_none()
        {
            self.set_guidelines(
                &requester,
                project.id,
                "# Vehicles and people\n\nDraw one box around each car, truck, bicycle and person, as tight as \
                 the outline allows. Parked and moving vehicles count alike; a person only partly visible still \
                 gets a box around the visible part.\n",
                Some("first version"),
            )
            .await?;
        }
        let mut file = tempfile_in_temp()?;
        for i in 1..=SCENES {
            writeln!(
                file.1,
                "{}",
                json!({"id": format!("street-{i}"), "data": {"image_url": format!("media:demo/street-{i}.png")}})
            )
            .map_err(|e| AppError::Internal(format!("demo data: {e}")))?;
        }
        file.1
            .flush()
            .map_err(|e| AppError::Internal(format!("demo data: {e}")))?;
        let report = self
            .import_file(
                &requester,
                project.id,
                file.0.clone(),
                ImportFormat::Jsonl,
                ImportMode::Atomic,
                Arc::new(ImportProgress::default()),
            )
            .await?;
        let _ = std::fs::remove_file(&file.0);
        if report.rejected {
            return Err(AppError::Internal(format!(
                "demo data for {NAME} is invalid: {:?}",
                report.errors
            )));
        }
        if report.imported > 0 {
            // Two workers box the first two scenes; the second one a little looser, as people do.
            for (n, (u, _)) in users[4..6].iter().enumerate() {
                let p = principal(u);
                for _ in 0..2 {
                    let Some(task) = self.next_task(&p, project.id).await? else {
                        break;
                    };
                    let scene: usize = task.item.data["image_url"]
                        .as_str()
                        .and_then(|v| v.strip_prefix("media:demo/street-"))
                        .and_then(|v| v.strip_suffix(".png"))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(1);
                    let slack = 0.006 * n as f64;
                    let boxes: Vec<Value> = truth[scene - 1]
                        .iter()
                        .map(|o| {
                            let x = (o.x - slack).max(0.0);
                            let y = (o.y - slack).max(0.0);
                            json!({"label": o.label, "x": x, "y": y,
                                   "w": (o.w + 2.0 * slack).min(1.0 - x), "h": (o.h + 2.0 * slack).min(1.0 - y)})
                        })
                        .collect();
                    self.submit(
                        &p,
                        task.assignment_id,
                        SubmitBody {
                            answers: json!({ "objects": boxes }),
                            integrity: None,
                        },
                        None,
                    )
                    .await?;
                }
            }
        }
        Ok((project.id, NAME.to_string(), u64::from(SCENES)))
    }

    /// Two workers answer the first reviews, so the classification project starts with progress and agreement.
    async fn seed_review_answers(&self, users: &[(User, String)], project: i64) -> AppResult<()> {
        for (u, _) in &users[3..5] {
            self.answer_reviews(&principal(u), project, 12).await?;
        }
        Ok(())
    }

    /// `worker` answers up to `n` product reviews with the sentiment the words suggest.
    async fn answer_reviews(&self, worker: &Principal, project: i64, n: usize) -> AppResult<()> {
        for _ in 0..n {
            let Some(task) = self.next_task(worker, project).await? else {
                break;
            };
            let text = task.item.data["text"].as_str().unwrap_or_default();
            let label = guess_sentiment(text);
            self.submit(
                worker,
                task.assignment_id,
                SubmitBody {
                    answers: json!({"sentiment": label}),
                    integrity: None,
                },
                None,
            )
            .await?;
        }
        Ok(())
    }
}

fn tempfile_in_temp() -> AppResult<(std::path::PathBuf, std::fs::File)> {
    let path = std::env::temp_dir().join(format!(
        "fairloop-demo-{}-{}.jsonl",
        std::process::id(),
        rand::random::<u64>()
    ));
    let file =
        std::fs::File::create(&path).map_err(|e| AppError::Internal(format!("demo data: {e}")))?;
    Ok((path, file))
}

fn guess_sentiment(text: &str) -> &'static str {
    if POSITIVE.iter().any(|p| text.contains(p)) {
        "pos"
    } else if NEGATIVE.iter().any(|p| text.contains(p)) {
        "neg"
    } else {
        "neutral"
    }
}

const PRODUCTS: [&str; 10] = [
    "wireless earbuds",
    "standing desk",
    "espresso machine",
    "hiking boots",
    "e-reader",
    "air purifier",
    "mechanical keyboard",
    "baby monitor",
    "cast-iron skillet",
    "robot vacuum",
];
const POSITIVE: [&str; 6] = [
    "works better than I hoped",
    "worth every cent",
    "I would buy it again",
    "setup took five minutes and it has been flawless since",
    "my favourite purchase this year",
    "great value",
];
const NEGATIVE: [&str; 6] = [
    "stopped working after two weeks",
    "customer support never answered",
    "returned it the next day",
    "the battery barely lasts an hour",
    "feels cheap and rattles",
    "arrived scratched",
];
const NEUTRAL: [&str; 4] = [
    "does what the box says, nothing more",
    "it is fine for the price",
    "about the same as my old one",
    "delivery was on time",
];

fn review_items() -> Vec<Value> {
    let mut out = Vec::new();
    for (i, product) in PRODUCTS.iter().enumerate() {
        for j in 0..6 {
            let k = i * 6 + j;
            let text = match k % 3 {
                0 => format!(
                    "The {product} {}. {}.",
                    POSITIVE[k % POSITIVE.len()],
                    cap(NEUTRAL[k % NEUTRAL.len()])
                ),
                1 => format!(
                    "Honestly the {product} {}, and {}.",
                    NEGATIVE[k % NEGATIVE.len()],
                    NEGATIVE[(k + 1) % NEGATIVE.len()]
                ),
                _ => format!("The {product}: {}.", NEUTRAL[k % NEUTRAL.len()]),
            };
            out.push(json!({"id": format!("review-{k:03}"), "data": {"text": text}}));
        }
    }
    out
}

fn cap(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

const PEOPLE: [&str; 6] = [
    "Angela Merkel",
    "Satya Nadella",
    "Serena Williams",
    "Ngozi Okonjo-Iweala",
    "Haruki Murakami",
    "Greta Gerwig",
];
const ORGS: [&str; 6] = [
    "the World Health Organization",
    "Siemens",
    "UNICEF",
    "the European Central Bank",
    "Airbus",
    "Nintendo",
];
const PLACES: [&str; 6] = [
    "Lagos",
    "Osaka",
    "São Paulo",
    "Reykjavík",
    "Nairobi",
    "Montréal",
];

fn entity_items() -> Vec<Value> {
    let frames = [
        "{P} met officials from {O} in {L} on Tuesday to discuss next year's budget.",
        "Speaking in {L}, {P} said {O} would open a new office before the summer.",
        "{O} confirmed that {P} will visit {L} for the opening of the trade fair.",
        "Residents of {L} welcomed the decision by {O}, which {P} announced late on Friday.",
        "In an interview, {P} praised {O} for its work in {L} after the floods.",
    ];
    let mut out = Vec::new();
    for k in 0..30 {
        let text = frames[k % frames.len()]
            .replace("{P}", PEOPLE[k % PEOPLE.len()])
            .replace("{O}", ORGS[(k / 2) % ORGS.len()])
            .replace("{L}", PLACES[(k / 3) % PLACES.len()]);
        out.push(json!({"id": format!("news-{k:03}"), "data": {"text": text}}));
    }
    out
}

/// Terms for the demo's entity project: what a worker reads and accepts before the first task.
fn demo_terms() -> crate::terms::PublishTerms {
    crate::terms::PublishTerms {
        summary: crate::terms::TermsSummary {
            ip_assigned: "The work product of this project only".into(),
            confidential: "The news texts and your answers, until the dataset is published".into(),
            notice_days: 14,
            expected_duration: "about 4 weeks".into(),
            weekly_hours: "as many as you like, up to 20".into(),
            content_warnings: vec!["news reports that mention violence".into()],
            notice_compensation_minor: 5000,
        },
        markdown: "## Terms of work\n\n\
                   1. **Pay**: the hourly rate shown, for active time as measured in the open (see the timesheet).\n\
                   2. **What you assign**: the answers you give in this project. Your knowledge, methods and tools stay yours.\n\
                   3. **Confidentiality**: keep the texts and your answers private until the dataset is published.\n\
                   4. **Notice**: if the project ends early you get 14 days' notice, or pay for them.\n\
                   5. **Questions**: ask below; a person at Demo Lab answers."
            .into(),
    }
}

/// Guidelines for a demo project: short, concrete, with an example, as real ones should be.
fn demo_guidelines(project: &str) -> String {
    let body = match project {
        "Compare two LLM answers" => {
            "Read the prompt first, then both answers in full.\n\n\
             - Prefer the answer that is **correct**; a confident wrong answer is worse than a cautious one.\n\
             - Then prefer the one that does what was asked, at the length asked.\n\
             - Use *about the same* only when you would be happy with either.\n\n\
             Your justification should name the decisive difference, e.g. \"B says a semaphore has an owner; it does not.\""
        }
        "Classify product reviews" => {
            "Label the reviewer's overall feeling about the product.\n\n\
             - **Positive**: they would recommend it, even with small complaints.\n\
             - **Negative**: they regret buying it, or warn others.\n\
             - **Neutral**: facts only, or praise and complaints in balance.\n\n\
             Sarcasm counts as what it means, not what it says."
        }
        "Named entities in news" => {
            "Mark every name of a **person**, **organization** and **location**.\n\n\
             - Mark the whole name (\"World Health Organization\", not \"Health\").\n\
             - Titles are not part of a person's name (\"Dr.\", \"President\").\n\
             - A country used as an actor (\"France said…\") is a location."
        }
        _ => {
            "Order the answers from best to worst.\n\n\
             - Correctness first, then completeness, then clarity.\n\
             - Tie two answers only when neither is better in any way that matters to the asker."
        }
    };
    format!("## {project}\n\n{body}\n")
}

/// Three answers to one prompt, of plainly different quality, so a ranking has a right answer to find.
fn ranking_items() -> Vec<Value> {
    PAIRS
        .iter()
        .enumerate()
        .map(|(k, (prompt, good, bad))| {
            json!({"id": format!("rank-{k:03}"), "data": {
                "prompt": prompt,
                "response_1": bad,
                "response_2": good,
                "response_3": format!("{}\n\n(Shortened.)", good.split("\n\n").next().unwrap_or(good)),
            }})
        })
        .collect()
}

const PAIRS: [(&str, &str, &str); 6] = [
    (
        "Explain the difference between a mutex and a semaphore to a junior engineer.",
        "A **mutex** is a lock with an owner: one thread takes it, and only that thread may release it. Use it to protect a critical section.\n\nA **semaphore** is a counter: `acquire` decrements it (waiting at zero) and `release` increments it. Any thread may release. Use it to limit concurrency, e.g. at most 4 database connections.\n\n```rust\nlet guard = data.lock().unwrap(); // mutex: exclusive access\n```",
        "They are the same thing, a semaphore is just the older name for a mutex. You can use either one whenever two threads share data.",
    ),
    (
        "What should I do if I think I have a sunburn with blisters?",
        "Blistering means a second-degree burn. Cool the skin with cool (not icy) water, do not pop the blisters, take ibuprofen for pain if you can, drink water, and keep out of the sun. See a doctor if the burn covers a large area, you have fever or chills, or the blisters look infected.",
        "Pop the blisters with a clean needle so the skin can breathe, then put butter or toothpaste on them to draw out the heat.",
    ),
    (
        "Write a haiku about a late train.",
        "Platform lights flicker—\nthe timetable promises\nwhat the rails will not.",
        "The train is late now\nI am waiting for the train\nit is very late",
    ),
    (
        "Summarise the main risk of a variable-rate mortgage in two sentences.",
        "Your monthly payment rises when the lender's reference rate rises, so a rate jump can make the loan unaffordable. You carry the interest-rate risk that a fixed-rate borrower pays the bank to carry.",
        "Variable-rate mortgages have no risks because rates usually go down over time. They are always cheaper than fixed-rate loans.",
    ),
    (
        "Translate into French: 'The meeting has been moved to Thursday afternoon.'",
        "La réunion a été déplacée à jeudi après-midi.",
        "Le rendez-vous est bougé au jeudi dans l'après-midi.",
    ),
    (
        "Is it safe to store passwords with SHA-256?",
        "Not on its own. SHA-256 is fast, so stolen hashes can be guessed billions of times a second. Use a slow, salted password hash such as **Argon2id**, scrypt or bcrypt, with parameters tuned to take tens of milliseconds.",
        "Yes. SHA-256 cannot be reversed, so passwords hashed with it are completely safe even if the database leaks.",
    ),
];

fn pairwise_items() -> Vec<Value> {
    let mut out = Vec::new();
    for round in 0..4 {
        for (i, (prompt, good, bad)) in PAIRS.iter().enumerate() {
            // Alternate sides so that position does not give the answer away.
            let (a, b) = if (i + round) % 2 == 0 {
                (good, bad)
            } else {
                (bad, good)
            };
            out.push(json!({
                "id": format!("pair-{round}-{i}"),
                "data": {"prompt": prompt, "response_a": a, "response_b": b}
            }));
        }
    }
    out
}
