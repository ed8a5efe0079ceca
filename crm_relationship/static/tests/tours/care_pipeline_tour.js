import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("crm_relationship_care_pipeline_tour", {
    steps: () => [
        {
            content: "The care pipeline shows every stage",
            trigger: ".o_kanban_group .o_column_title:contains('Development')",
        },
        {
            content: "Drag the customer to Consulting",
            trigger: ".o_kanban_record:contains('Care Tour Customer')",
            run: "drag_and_drop (.o_kanban_group:has(.o_column_title:contains('Consulting')))",
        },
        {
            content: "The card is in Consulting",
            trigger:
                ".o_kanban_group:has(.o_column_title:contains('Consulting')) .o_kanban_record:contains('Care Tour Customer')",
        },
    ],
});
