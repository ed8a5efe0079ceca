"""The security groups the Python code names, one definition each."""

USER_GROUP = "crm_relationship.crm_relationship_group_user"
MANAGER_GROUP = "crm_relationship.crm_relationship_group_manager"
# readers of money figures, as core gates res.partner.total_invoiced
MONEY_GROUPS = (
    f"{USER_GROUP},account.group_account_invoice,account.group_account_readonly"
)
