def post_init_hook(env):
    """Give every existing company its default tiers (new ones get them on create)."""
    env["crm.relationship.tier"]._create_default_tiers(env["res.company"].search([]))
