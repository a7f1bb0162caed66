"""A curated skills vocabulary and a deterministic matcher over free text.

Resumes and job posts name the same skill many ways ("JS", "ES6", "JavaScript"; "k8s",
"Kubernetes"); scoring compares skills by name, so both sides are mapped to one canonical
display name here. Matching is whole-word but tolerant of the symbols that ``\\b`` cannot see
(C++, C#, .NET, Node.js, CI/CD), and terms that are also ordinary English words or letters
("Go", "R", "React", "Spring Boot" vs "spring") match only in their exact case.

Table syntax: entries are separated by ";", a canonical name comes first and its aliases follow
after "|"; a term written ``!Term`` matches only in exactly that case.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

__all__ = ["canonical_skill", "find_skills", "vocabulary"]

_TABLE = """
Python | Python3 | Python 3; Java | Java SE | Java EE | J2EE | JEE; TypeScript
JavaScript | !JS | ES6 | ES6+ | ECMAScript; !C; C++ | CPP; C#; F#; !Go | Golang; !Rust; !Ruby; PHP
!Swift; Kotlin; !Scala; !R; MATLAB; Perl; Haskell; !Elixir; Erlang; Clojure; !Lua; !Dart; !Julia
Objective-C; !Groovy; !Bash | Shell Scripting; PowerShell; COBOL; Fortran; VBA; Visual Basic
Solidity; SQL; PL/SQL; T-SQL; HTML | HTML5; CSS | CSS3; Sass | SCSS; XML; JSON; YAML; LaTeX
GraphQL; gRPC; REST APIs | !REST | RESTful | RESTful APIs | REST API | RESTful services
| RESTful API; SOAP; WebSockets | WebSocket; Protocol Buffers | protobuf
!React | React.js | ReactJS; React Native; Angular | AngularJS | Angular.js; Vue.js | !Vue | VueJS
!Svelte; Next.js | NextJS; Nuxt.js | Nuxt; Redux; jQuery; !Bootstrap; Tailwind CSS | Tailwind
| TailwindCSS; Material UI | MUI; Webpack; !Babel; !Vite; !Storybook; D3.js | !D3; Three.js
Backbone.js; Ember.js; Node.js | NodeJS | !Node; !Express | Express.js | ExpressJS; NestJS
Django; Django REST Framework | DRF; !Flask; FastAPI; Spring Framework | Spring MVC
Spring Boot; Ruby on Rails | !Rails; Laravel; Symfony; .NET | .NET Core | dotnet; ASP.NET
Entity Framework; Hibernate; JPA; SQLAlchemy; Prisma; ORM; MVC; LAMP; asyncio; !Celery
!Electron; !Flutter; Xamarin; SwiftUI; Xcode; Android; !iOS; !Unity; Unreal Engine; OpenGL; Qt
Jekyll; MERN Stack | !MERN; MEAN Stack | !MEAN; Serverless; Microservices | microservice
| microservices architecture; Event-Driven Architecture | event-driven systems
| event-driven messaging
Distributed Systems; System Design; API Design; Object-Oriented Programming | OOP
| object-oriented design | object-oriented analysis; Design Patterns; Data Structures; Algorithms
Functional Programming; Concurrency; Multithreading; Embedded Systems; Responsive Design
| responsive web design; Accessibility | WCAG | a11y; Web Performance | Core Web Vitals; SEO
MySQL; PostgreSQL | Postgres; SQLite; MongoDB | !Mongo; Redis; Cassandra; DynamoDB; MariaDB
Microsoft SQL Server | SQL Server | MSSQL | MS SQL; !Oracle | Oracle Database; Neo4j; CouchDB
Firestore; Memcached; Elasticsearch | Elastic Search; NoSQL; !Snowflake; BigQuery; Redshift; !dbt
Firebase; Supabase; AWS | Amazon Web Services; Amazon EC2 | EC2; Amazon S3 | !S3
Amazon RDS | !RDS; Amazon ECS | !ECS; Amazon EKS | !EKS; AWS Lambda | !Lambda; SageMaker
CloudFormation; ElastiCache; Azure | Microsoft Azure; Google Cloud | GCP | Google Cloud Platform
Heroku; DigitalOcean; Vercel; Cloudflare; Docker; Kubernetes | k8s; !Helm; Terraform; Ansible
!Chef; !Puppet; !Vagrant; OpenShift; CI/CD | CI / CD | continuous integration | continuous delivery
| continuous deployment; Jenkins; GitHub Actions; GitLab CI; CircleCI; Travis CI; Argo CD | ArgoCD
Git; GitHub; GitLab; Bitbucket; SVN | Subversion; Linux; Unix; !Windows; macOS | Mac OS | OS X
| Mac OS X; Nginx; Kafka | Apache Kafka; RabbitMQ; !Spark | Apache Spark | PySpark; Hadoop
Flink | Apache Flink; !Airflow | Apache Airflow; Dask; Databricks; !Prometheus; Grafana; Datadog
OpenTelemetry; New Relic; Splunk; ELK Stack | !ELK; Kibana; Logstash; PagerDuty; !Sentry
Observability; DevOps; Site Reliability Engineering | SRE; MLOps; !Jest; Vitest; !Mocha; !Cypress
!Playwright; !Selenium; JUnit; Mockito; pytest; Unit Testing | unit tests | unit test
Test-Driven Development | TDD; Machine Learning | !ML; Deep Learning
Artificial Intelligence | !AI; Natural Language Processing | !NLP; Computer Vision
Large Language Models | !LLM | !LLMs; Generative AI | GenAI; Reinforcement Learning
Data Science; Data Analysis | data analytics; Data Engineering; Data Visualization
| data visualisation; Data Modeling | data modelling; Data Mining; Data Warehousing
| data warehouse; ETL; Feature Engineering; Statistics | statistical analysis; A/B Testing
| A/B tests | AB testing | split testing; Experimentation; Pandas; NumPy; SciPy
scikit-learn | sklearn; TensorFlow; PyTorch; !Keras; Hugging Face | HuggingFace
| Hugging Face Transformers; XGBoost; LightGBM; OpenCV; spaCy; NLTK; MLflow; Kubeflow; LangChain
Feature Stores | feature store; Jupyter | Jupyter Notebook; !Tableau; Power BI | PowerBI; !Looker
!Amplitude; Mixpanel; Google Analytics; Microsoft Excel | !Excel | MS Excel
Microsoft Word | MS Word; PowerPoint | Microsoft PowerPoint; !Outlook | Microsoft Outlook
Microsoft Office | MS Office | Office 365 | Microsoft 365; Microsoft Project | MS Project
Google Workspace | G Suite; Jira | JIRA; !Confluence; Trello; !Asana; !TFS
Figma; Adobe Photoshop | Photoshop; Adobe Illustrator | !Illustrator; Adobe InDesign | InDesign
Adobe XD; UI/UX Design | UI/UX | UX design | UI design | user experience design | UX/UI
| user interface design | !UX; User Research; Wireframing | wireframes; Prototyping
Design Thinking; Design Systems | design system; Cybersecurity | cyber security
| information security; Network Security; Penetration Testing; OAuth; JWT; Active Directory
VMware; Virtualization; Networking | computer networking; TCP/IP; Troubleshooting
Technical Support | tech support | desktop support; Help Desk | helpdesk; ITIL
Hardware Installation | hardware setup; Software Installation; Project Management
Product Management; Program Management; Agile | agile methodologies | agile development; Scrum
!Kanban; !Lean; Six Sigma; Leadership | team leadership; Communication | communication skills
| communications; Public Speaking; Presentation Skills | presentations; Negotiation
Stakeholder Management; Strategic Planning; Product Strategy; Product Roadmap | roadmapping
| product roadmaps; Go-to-Market Strategy | go-to-market | GTM; Market Research
Competitive Analysis; Business Analysis; Requirements Gathering | requirements analysis
Financial Analysis; Financial Modeling | financial modelling; Financial Reporting
| financial reports; Financial Planning; Budgeting | budget forecasts | budget forecasting
Forecasting; Accounting; Bookkeeping; Accounts Payable; Accounts Receivable; Payroll
Tax Preparation | tax returns | tax accounting; Auditing | audits | internal audit; GAAP
QuickBooks; !SAP; Salesforce; CRM; ERP; Customer Service | customer support; Sales
Marketing | digital marketing; Social Media | social media marketing; Content Marketing
Email Marketing; Copywriting; Business Development; Account Management; Event Planning
Human Resources; Recruiting | recruitment; Onboarding; Mentoring | mentorship | mentored
People Management | team management; Time Management; Problem Solving | problem-solving
Critical Thinking; Teamwork; Attention to Detail; Organizational Skills; Operations Management
Supply Chain Management | supply chain; Logistics; Procurement; Vendor Management; Risk Management
Compliance; Billing | insurance billing | medical billing; Data Entry; OKRs | !OKR; SaaS; B2B
E-commerce | ecommerce; Mathematics; Research; Technical Writing; Customer Discovery
"""

_CASE_MARK = "!"
_WORD_GAP = r"[\s\-]+"
_SHORT = 2  # terms this short also refuse a hyphen or dot beside them ("C-suite", "R. Smith")


def _entries() -> Iterator[tuple[str, tuple[str, ...]]]:
    text = re.sub(r"\n\|", " |", _TABLE.strip())  # a line starting with "|" continues an entry
    for line in text.splitlines():
        for entry in line.split(";"):
            terms = [term.strip() for term in entry.split("|") if term.strip()]
            if terms:
                yield terms[0], tuple(terms)


def _key(term: str, *, exact: bool) -> str:
    collapsed = re.sub(_WORD_GAP, " ", term.strip())
    return collapsed if exact else collapsed.casefold()


def _build() -> tuple[dict[str, str], dict[str, str], re.Pattern[str]]:
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    alternatives: list[tuple[int, str]] = []
    for display, terms in _entries():
        canonical = display.removeprefix(_CASE_MARK)
        for raw in terms:
            is_exact = raw.startswith(_CASE_MARK)
            term = raw.removeprefix(_CASE_MARK)
            table = exact if is_exact else folded
            table.setdefault(_key(term, exact=is_exact), canonical)
            body = _WORD_GAP.join(re.escape(part) for part in re.split(r"[\s\-]+", term))
            if len(term) <= _SHORT:
                body = rf"(?<![\-.]){body}(?![\-.]\w|\.\s?[A-Z])"
            if len(term) == 1:  # not a letter of letter-spaced text ("S E N I O R")
                body = rf"(?<!\b\w ){body}(?! \w\b(?![+#]))"
            alternatives.append((len(term), body if is_exact else f"(?i:{body})"))
    alternatives.sort(key=lambda item: -item[0])  # longest first: "JavaScript" before "Java"
    union = "|".join(body for _, body in alternatives)
    # Not inside a word, an e-mail, a domain ("github.com") or an icon name ("/github").
    pattern = re.compile(rf"(?<![\w+#.&@])(?<!\W/)(?<!^/)(?:{union})(?![\w+#&@]|\.\w)")
    return exact, folded, pattern


_EXACT, _FOLDED, _PATTERN = _build()


def canonical_skill(term: str) -> str | None:
    """The canonical name of ``term`` when the whole of it is a known skill or alias, else None."""
    return _EXACT.get(_key(term, exact=True)) or _FOLDED.get(_key(term, exact=False))


def find_skills(text: str) -> tuple[str, ...]:
    """Canonical names of the known skills in ``text``, once each, in order of first mention."""
    found: dict[str, None] = {}
    for match in _PATTERN.finditer(text):
        name = canonical_skill(match.group(0))
        if name is not None:
            found.setdefault(name, None)
    return tuple(found)


def vocabulary() -> tuple[str, ...]:
    """Every canonical skill name, in table order."""
    return tuple(dict.fromkeys(display.removeprefix(_CASE_MARK) for display, _ in _entries()))
