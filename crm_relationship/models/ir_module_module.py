from odoo import models


class IrModuleModule(models.Model):
    _inherit = "ir.module.module"

    def _update_translations(self, filter_lang=None, overwrite=False):
        """Default tiers are per-company records created by code: give them
        their names in a language installed after them."""
        res = super()._update_translations(filter_lang, overwrite)
        langs = [filter_lang] if isinstance(filter_lang, str) else filter_lang
        self.env["crm.relationship.tier"]._translate_default_names(langs)
        return res
