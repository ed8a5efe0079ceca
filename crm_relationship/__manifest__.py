{
    "name": "Customer Relationships",
    "summary": "Customer tiers by revenue, care pipeline, lifetime value, "
    "relationship programs, feedback and CRM evaluation KPIs",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/crm-relationship/crm_relationship",
    "author": "crm_relationship developers",
    "maintainers": [],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["account", "crm", "mail", "contacts"],
    "data": [
        "security/crm_relationship_groups.xml",
        "security/ir.model.access.csv",
        "security/crm_relationship_security.xml",
        "data/ir_cron_data.xml",
        "data/crm_relationship_tier_data.xml",
        "wizards/crm_relationship_tier_simulation_views.xml",
        "views/crm_relationship_tier_views.xml",
        "views/res_partner_views.xml",
        "views/res_config_settings_views.xml",
        "views/crm_relationship_menus.xml",
    ],
    "demo": [
        "demo/res_partner_demo.xml",
    ],
    "application": True,
}
