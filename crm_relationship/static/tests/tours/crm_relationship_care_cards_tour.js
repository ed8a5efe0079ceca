import { registry } from "@web/core/registry";

const card = ".o_kanban_record:contains('Card Tour Customer')";

registry.category("web_tour.tours").add("crm_relationship_care_cards_tour", {
    steps: () => [
        {
            content: "The tier badge is in the tier's colour",
            trigger: `${card} .o_crm_relationship_tier_badge.o_tag_color_3:contains('VIP')`,
        },
        {
            content: "A VIP customer with a lifetime value has three stars",
            trigger: `${card} .o_priority .o_priority_star.fa-star:eq(2)`,
        },
        {
            content: "Its lifetime value is shown",
            trigger: `${card} .o_crm_relationship_ltv`,
        },
        {
            content: "Its salesperson's avatar and the activity widget are on the card",
            trigger: `${card} .o_field_many2one_avatar_user img`,
        },
        {
            trigger: `${card} .o_field_kanban_activity`,
        },
        {
            content: "The column sums the lifetime value",
            trigger: `.o_kanban_group:has(${card}) .o_kanban_counter .o_animated_number:contains('12')`,
        },
    ],
});
