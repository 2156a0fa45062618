"""The controls in scope for a multi-tenant database tier, per framework, as data.

``tenancy compliance`` reports every control listed here, not only those a rule
maps to, so a framework reads PASS only when nothing in scope is left unproven.
Each entry names the framework text it comes from (``citation``) and says why it
applies to the data tier (``why``). Two kinds:

- ``infrastructure``: the plan can show it. Rules evidence it through their
  ``controls``; while no rule does, the report shows it as *not covered* with
  ``evidence``: what a rule would have to check to cover it.
- ``process``: a people or paperwork control (training, incident procedure,
  provider data centres). The report names it as *outside the infrastructure*,
  with ``evidence``: where an auditor gets its evidence instead. It is never
  checked, and never shown as a pass.

Ids follow each framework's own numbering: GDPR articles, 45 CFR sections for
HIPAA, PCI DSS v4.0.1 requirements, the AICPA 2017 Trust Services Criteria
(revised points of focus, 2022) for SOC 2, ISO/IEC 27001:2022 Annex A. A test
keeps every control a rule names inside its framework's list.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["infrastructure", "process"]

GDPR = "Regulation (EU) 2016/679 (GDPR)"
HIPAA = "45 CFR Part 164 Subpart C (HIPAA Security Rule)"
PCI = "PCI DSS v4.0.1"
SOC2 = "AICPA 2017 Trust Services Criteria (revised points of focus, 2022)"
ISO = "ISO/IEC 27001:2022 Annex A (controls from ISO/IEC 27002:2022)"

_LOG_EXPORT = (
    "a rule that every database server sends its audit and connection logs to the "
    "cloud's log service (Aurora `enabledCloudwatchLogsExports` with pgaudit, an Azure "
    "diagnostic setting, Cloud SQL `cloudsql.enable_pgaudit` + log sink): the "
    "audit-logging rules of the observability work"
)
_DB_AUTH = (
    "a rule that database servers require identity-based authentication (RDS "
    "`iamDatabaseAuthenticationEnabled`, Flexible Server `authConfig.activeDirectoryAuth`, "
    "Cloud SQL `cloudsql.iam_authentication`)"
)
_ERASURE = (
    "a rule over the plan and the erasure evidence: no resource of an offboarded "
    "tenant remains and its erasure record verifies (`tenancy evidence verify`); today "
    "`tenancy tenant erase` produces that evidence outside the policy pack"
)
_TENANT_ACCESS = (
    "a rule over the in-database plan (`tenancy db plan`): one login role per tenant, "
    "schema `USAGE` only for its owner, row-level security enabled and forced on pool "
    "tables; today the isolation tests prove it, not the policy pack"
)
_PROVIDER = (
    "the cloud provider's attestation reports (AWS Artifact, Azure and Google compliance reports)"
)


@dataclass(frozen=True)
class ScopedControl:
    """One control of a framework that applies to the data tier."""

    framework: str  # gdpr | hipaa | pci | soc2 | iso27001
    id: str  # as the framework numbers it, e.g. "164.312(b)"
    title: str
    why: str  # why a multi-tenant database tier falls under it
    citation: str  # the framework text it comes from
    kind: Kind
    evidence: str  # infrastructure: what would cover it; process: where its evidence lives


def _gdpr(id: str, title: str, why: str, kind: Kind, evidence: str) -> ScopedControl:
    return ScopedControl("gdpr", id, title, why, f"{GDPR}, {id}", kind, evidence)


def _hipaa(id: str, title: str, why: str, kind: Kind, evidence: str) -> ScopedControl:
    return ScopedControl("hipaa", id, title, why, f"{HIPAA}, § {id}", kind, evidence)


def _pci(id: str, title: str, why: str, kind: Kind, evidence: str) -> ScopedControl:
    return ScopedControl("pci", id, title, why, f"{PCI}, Requirement {id}", kind, evidence)


def _soc2(id: str, title: str, why: str, kind: Kind, evidence: str) -> ScopedControl:
    return ScopedControl("soc2", id, title, why, f"{SOC2}, {id}", kind, evidence)


def _iso(id: str, title: str, why: str, kind: Kind, evidence: str) -> ScopedControl:
    return ScopedControl("iso27001", id, title, why, f"{ISO}, {id}", kind, evidence)


INFRA: Kind = "infrastructure"
PROCESS: Kind = "process"

GDPR_SCOPE = (
    _gdpr(
        "Art. 5(1)(e)",
        "Storage limitation",
        "Personal data must be traceable to its tenant to be kept no longer than needed; "
        "every resource carries its tenant and compliance tags.",
        INFRA,
        "the tagging rules (tenant, tier, compliance on every stateful resource)",
    ),
    _gdpr(
        "Art. 17",
        "Right to erasure ('right to be forgotten')",
        "A tenant's personal data sits in its server, schema or rows and in their backups; "
        "erasure has to reach all of them.",
        INFRA,
        _ERASURE,
    ),
    _gdpr(
        "Art. 25",
        "Data protection by design and by default",
        "Tenant isolation (silo, bridge, pool with row-level security) is the design that "
        "keeps one tenant's personal data from another.",
        INFRA,
        _TENANT_ACCESS,
    ),
    _gdpr(
        "Art. 30",
        "Records of processing activities",
        "The controller's register of processing names the database tier as a processing "
        "system; the catalog lists tenants but is not that register.",
        PROCESS,
        "the controller's and processor's records of processing (the DPO keeps them)",
    ),
    _gdpr(
        "Art. 32",
        "Security of processing",
        "Encryption, confidentiality, integrity, availability and restore of personal data "
        "are properties of the database servers, keys, networks and backups.",
        INFRA,
        "the encryption, transit, network, backup and deletion-protection rules",
    ),
    _gdpr(
        "Art. 33",
        "Notification of a personal data breach to the supervisory authority",
        "A breach of the data tier starts the 72-hour notification clock.",
        PROCESS,
        "the incident response procedure and its breach register",
    ),
    _gdpr(
        "Art. 44",
        "General principle for transfers",
        "Servers, replicas, backups and keys must stay in the tenant's residency zone.",
        INFRA,
        "the residency region-fencing rules",
    ),
)

HIPAA_SCOPE = (
    _hipaa(
        "164.308(a)(1)(ii)(D)",
        "Information system activity review",
        "Regular review of audit logs and access reports needs the database tier to "
        "record activity and deliver it where it is reviewed.",
        INFRA,
        _LOG_EXPORT,
    ),
    _hipaa(
        "164.308(a)(5)(i)",
        "Security awareness and training",
        "People who operate the ePHI databases must be trained; no plan can show it.",
        PROCESS,
        "the workforce training records",
    ),
    _hipaa(
        "164.308(a)(6)(i)",
        "Security incident procedures",
        "Incidents on the ePHI databases must be identified, responded to and documented.",
        PROCESS,
        "the incident response procedure and its records",
    ),
    _hipaa(
        "164.308(a)(7)(ii)(A)",
        "Data backup plan",
        "Retrievable exact copies of ePHI are the databases' backups and point-in-time recovery.",
        INFRA,
        "the backup and PITR rules",
    ),
    _hipaa(
        "164.308(a)(7)(ii)(B)",
        "Disaster recovery plan",
        "Restoring lost ePHI is a procedure; `tenancy tenant restore` is a tool it can "
        "name, not the plan itself.",
        PROCESS,
        "the disaster recovery plan and its test records",
    ),
    _hipaa(
        "164.310(a)(1)",
        "Facility access controls",
        "The servers run in the cloud provider's data centres.",
        PROCESS,
        _PROVIDER,
    ),
    _hipaa(
        "164.312(a)(1)",
        "Access control",
        "Only granted persons or programs may reach ePHI: private networking and "
        "per-tenant segregation of the database tier.",
        INFRA,
        "the no-public-access and segregation rules",
    ),
    _hipaa(
        "164.312(a)(2)(i)",
        "Unique user identification",
        "Each tenant and operator must reach the database under its own identity, never "
        "a shared login.",
        INFRA,
        _TENANT_ACCESS,
    ),
    _hipaa(
        "164.312(a)(2)(iv)",
        "Encryption and decryption",
        "ePHI at rest is encrypted with customer-managed keys.",
        INFRA,
        "the encryption-at-rest and key-isolation rules",
    ),
    _hipaa(
        "164.312(b)",
        "Audit controls",
        "The database tier must record and let examine activity in systems holding ePHI.",
        INFRA,
        _LOG_EXPORT,
    ),
    _hipaa(
        "164.312(c)(1)",
        "Integrity",
        "ePHI must be protected from improper destruction: deletion protection and backups.",
        INFRA,
        "the deletion-protection and backup rules",
    ),
    _hipaa(
        "164.312(d)",
        "Person or entity authentication",
        "Whoever connects to an ePHI database must be verified to be who they claim.",
        INFRA,
        _DB_AUTH,
    ),
    _hipaa(
        "164.312(e)(1)",
        "Transmission security",
        "ePHI moving between application and database is encrypted in transit.",
        INFRA,
        "the TLS-only rules",
    ),
)

PCI_SCOPE = (
    _pci(
        "1.4",
        "Network connections between trusted and untrusted networks are controlled",
        "Database servers holding account data must not be reachable from untrusted networks.",
        INFRA,
        "the no-public-access and network segregation rules",
    ),
    _pci(
        "2.2",
        "System components are configured and managed securely",
        "Servers and workloads follow one secure configuration from the catalog.",
        INFRA,
        "the workload configuration rules",
    ),
    _pci(
        "3.2",
        "Storage of account data is kept to a minimum",
        "Account data in databases and backups must be kept only as long as needed and "
        "then securely deleted.",
        INFRA,
        "a rule bounding backup retention from above per tier, plus " + _ERASURE,
    ),
    _pci(
        "3.5",
        "Primary account number (PAN) is secured wherever it is stored",
        "Stored account data is encrypted at rest with strong cryptography.",
        INFRA,
        "the encryption-at-rest rules",
    ),
    _pci(
        "3.6",
        "Cryptographic keys used to protect stored account data are secured",
        "Keys are customer-managed, rotated, and never shared between silo tenants.",
        INFRA,
        "the key rotation and key-isolation rules",
    ),
    _pci(
        "3.7",
        "Key-management processes and procedures cover the key lifecycle",
        "Key custodians, generation, distribution and retirement are procedures around "
        "the keys the plan creates.",
        PROCESS,
        "the documented key-management procedures and custodian acknowledgements",
    ),
    _pci(
        "4.2",
        "PAN is protected with strong cryptography during transmission",
        "Connections to the databases are TLS only.",
        INFRA,
        "the TLS-only rules",
    ),
    _pci(
        "7.2",
        "Access to system components and data is appropriately defined and assigned",
        "Least privilege inside the shared servers: each tenant's role reaches only its "
        "own schema or rows.",
        INFRA,
        _TENANT_ACCESS,
    ),
    _pci(
        "8.3",
        "Strong authentication for users and administrators is established and managed",
        "Database logins must use strong, managed authentication.",
        INFRA,
        _DB_AUTH,
    ),
    _pci(
        "9.2",
        "Physical access controls manage entry into facilities and systems containing "
        "cardholder data",
        "The servers run in the cloud provider's data centres.",
        PROCESS,
        _PROVIDER,
    ),
    _pci(
        "10.2",
        "Audit logs are implemented to support the detection of anomalies and suspicious "
        "activity, and the forensic analysis of events",
        "Access to account data in the databases must be logged.",
        INFRA,
        _LOG_EXPORT,
    ),
    _pci(
        "10.3",
        "Audit logs are protected from destruction and unauthorized modifications",
        "Database audit logs must leave the server for a store the database admin cannot alter.",
        INFRA,
        "a rule that the log destination is encrypted and retention-locked (CloudWatch log "
        "group KMS key and retention, Log Analytics or Cloud Logging bucket lock)",
    ),
    _pci(
        "10.5",
        "Audit log history is retained and available for analysis",
        "At least twelve months of database audit logs, three of them immediately available.",
        INFRA,
        "a rule that the log destination's retention is at least 365 days",
    ),
    _pci(
        "12.6",
        "Security awareness education is an ongoing activity",
        "People with access to the cardholder data environment must be trained.",
        PROCESS,
        "the security awareness programme's records",
    ),
    _pci(
        "12.10",
        "Suspected and confirmed security incidents that could impact the CDE are "
        "responded to immediately",
        "Incident response relies on restorable backups of the databases.",
        INFRA,
        "the backup and PITR rules",
    ),
)

SOC2_SCOPE = (
    _soc2(
        "A1.2",
        "Environmental protections, software, data backup and recovery infrastructure",
        "Backups, PITR, high availability and autoscaling of the database tier.",
        INFRA,
        "the backup, deletion-protection and autoscaling rules",
    ),
    _soc2(
        "A1.3",
        "Recovery plan procedures are tested",
        "Restores of tenant databases must be rehearsed; a plan cannot show a rehearsal.",
        PROCESS,
        "restore test records (e.g. runs of `tenancy tenant restore` into a clone)",
    ),
    _soc2(
        "C1.2",
        "Confidential information is disposed of",
        "An offboarded tenant's data must be destroyed, backups included.",
        INFRA,
        _ERASURE,
    ),
    _soc2(
        "CC1.4",
        "Commitment to attract, develop and retain competent individuals",
        "Operators of the data tier must be competent and trained.",
        PROCESS,
        "HR and training records",
    ),
    _soc2(
        "CC6.1",
        "Logical access security over protected information assets",
        "Encryption keys, private networking and per-tenant keys protect tenant data.",
        INFRA,
        "the encryption-at-rest and key-isolation rules",
    ),
    _soc2(
        "CC6.3",
        "Access is authorized, modified or removed by role, with least privilege",
        "Each tenant's database role reaches only its own data.",
        INFRA,
        _TENANT_ACCESS,
    ),
    _soc2(
        "CC6.6",
        "Logical access security against threats from outside the system boundaries",
        "No public endpoint on any database; default-deny network policies for workloads.",
        INFRA,
        "the no-public-access and segregation rules",
    ),
    _soc2(
        "CC6.7",
        "Transmission, movement and removal of information is restricted",
        "TLS only in transit; data, replicas and backups stay in the residency zone.",
        INFRA,
        "the TLS-only and residency rules",
    ),
    _soc2(
        "CC7.1",
        "Detection and monitoring of configuration changes and new vulnerabilities",
        "One declared configuration per tier; tags tie every resource to its owner.",
        INFRA,
        "the workload configuration and tagging rules",
    ),
    _soc2(
        "CC7.2",
        "System components are monitored for anomalies",
        "The databases must emit the logs and metrics that anomaly monitoring consumes.",
        INFRA,
        _LOG_EXPORT,
    ),
    _soc2(
        "CC7.4",
        "Identified security incidents are responded to",
        "Incidents on the data tier follow the response programme.",
        PROCESS,
        "the incident response programme and its tickets",
    ),
    _soc2(
        "CC8.1",
        "Changes to infrastructure, data and software are authorized, tested and approved",
        "Every data-tier change goes through a reviewed pull request with the offline plan's diff.",
        PROCESS,
        "the pull-request history: `tenancy diff` comments, danger-flag approvals, deploy logs",
    ),
)

ISO27001_SCOPE = (
    _iso(
        "A.5.12",
        "Classification of information",
        "Every resource carries its tenant, tier and compliance classification.",
        INFRA,
        "the tagging rules",
    ),
    _iso(
        "A.5.15",
        "Access control",
        "Who may administer each database server is a rule set in the plan: the stack's "
        "operators' group, not individual people or workloads.",
        INFRA,
        "the Entra administrator rules (every Azure server has one, and it is a group)",
    ),
    _iso(
        "A.5.23",
        "Information security for use of cloud services",
        "Choosing and managing the cloud providers is an organisational process.",
        PROCESS,
        "the cloud service agreements and supplier reviews",
    ),
    _iso(
        "A.5.33",
        "Protection of records",
        "Audit records of the database tier must be protected from loss and falsification.",
        INFRA,
        "a rule that database audit logs go to an encrypted, retention-locked destination "
        "(with " + _LOG_EXPORT + ")",
    ),
    _iso(
        "A.5.34",
        "Privacy and protection of PII",
        "PII stays in the tenant's residency zone.",
        INFRA,
        "the residency rules",
    ),
    _iso(
        "A.6.3",
        "Information security awareness, education and training",
        "People who operate the data tier must be trained.",
        PROCESS,
        "the training records",
    ),
    _iso(
        "A.7.1",
        "Physical security perimeters",
        "The servers run in the cloud provider's data centres.",
        PROCESS,
        _PROVIDER,
    ),
    _iso(
        "A.8.2",
        "Privileged access rights",
        "A database server's administrator can read and change every tenant on it: that "
        "right must be restricted to a managed group of operators.",
        INFRA,
        "the Entra administrator rules (the administrator of an Azure server is a group)",
    ),
    _iso(
        "A.8.3",
        "Information access restriction",
        "Each tenant's role reaches only its own schema or rows.",
        INFRA,
        _TENANT_ACCESS,
    ),
    _iso(
        "A.8.5",
        "Secure authentication",
        "Database logins must use secure, managed authentication.",
        INFRA,
        _DB_AUTH,
    ),
    _iso(
        "A.8.6",
        "Capacity management",
        "Database and workload capacity scale within each tier's bounds.",
        INFRA,
        "the autoscaling rules",
    ),
    _iso(
        "A.8.9",
        "Configuration management",
        "One declared configuration per tier, enforced on every workload.",
        INFRA,
        "the workload configuration rules",
    ),
    _iso(
        "A.8.10",
        "Information deletion",
        "An offboarded tenant's data must be deleted, backups included.",
        INFRA,
        _ERASURE,
    ),
    _iso(
        "A.8.13",
        "Information backup",
        "Backups and point-in-time recovery of every database.",
        INFRA,
        "the backup rules",
    ),
    _iso(
        "A.8.14",
        "Redundancy of information processing facilities",
        "High availability and autoscaled replicas per tier.",
        INFRA,
        "the autoscaling rules",
    ),
    _iso(
        "A.8.15",
        "Logging",
        "The databases must produce and keep logs of activity and security events.",
        INFRA,
        _LOG_EXPORT,
    ),
    _iso(
        "A.8.16",
        "Monitoring activities",
        "The databases must be monitored for anomalous behaviour.",
        INFRA,
        "a rule that every database server has monitoring wired (enhanced monitoring / "
        "Performance Insights, Azure diagnostic metrics, Cloud SQL insights), with " + _LOG_EXPORT,
    ),
    _iso(
        "A.8.20",
        "Networks security",
        "Database networks are private; no public endpoint.",
        INFRA,
        "the no-public-access rules",
    ),
    _iso(
        "A.8.22",
        "Segregation of networks",
        "Tenant workloads are segregated by default-deny network policies.",
        INFRA,
        "the segregation rules",
    ),
    _iso(
        "A.8.24",
        "Use of cryptography",
        "Encryption at rest with customer-managed keys and TLS in transit.",
        INFRA,
        "the encryption, transit and key-isolation rules",
    ),
    _iso(
        "A.8.32",
        "Change management",
        "Every data-tier change goes through a reviewed pull request with the plan's diff.",
        PROCESS,
        "the pull-request history: `tenancy diff` comments, danger-flag approvals, deploy logs",
    ),
)

SCOPE: dict[str, tuple[ScopedControl, ...]] = {
    "gdpr": GDPR_SCOPE,
    "hipaa": HIPAA_SCOPE,
    "pci": PCI_SCOPE,
    "soc2": SOC2_SCOPE,
    "iso27001": ISO27001_SCOPE,
}


def scoped(framework: str, control_id: str) -> ScopedControl:
    """The in-scope entry for a control; KeyError names it when it is missing."""
    for control in SCOPE[framework]:
        if control.id == control_id:
            return control
    raise KeyError(f"{framework} {control_id} is not in policies/scope.py")
