import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("crm_relationship_program_pipeline_tour", {
    steps: () => [
        {
            content: "Open the program",
            trigger: ".o_kanban_record:contains('Tour program')",
            run: "click",
        },
        {
            content: "Open its member pipeline",
            trigger: "button[name='action_view_members']",
            run: "click",
        },
        {
            content: "Every stage is a column",
            trigger: ".o_kanban_group:contains('Dropped')",
        },
        {
            content: "Drag the targeted member to Converted",
            trigger:
                ".o_kanban_group:has(.o_column_title:contains('Targeted')) .o_kanban_record:contains('Tour Customer')",
            run: "drag_and_drop(.o_kanban_group:has(.o_column_title:contains('Converted')))",
        },
        {
            content: "The member is now converted",
            trigger:
                ".o_kanban_group:has(.o_column_title:contains('Converted')) .o_kanban_record:contains('Tour Customer')",
        },
    ],
});
