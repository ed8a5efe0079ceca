import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("crm_relationship_feedback_backend_tour", {
    steps: () => [
        {
            content: "Every stage is a column, even the empty ones",
            trigger: ".o_kanban_group .o_column_title:contains(Closed)",
        },
        {
            content: "The overdue complaint shows its deadline in red",
            trigger: ".o_kanban_record:contains(Tour overdue complaint) .text-danger .fa-clock-o",
        },
        {
            content: "Create a feedback",
            trigger: ".o-kanban-button-new",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=name] input",
            run: "edit Giá cao hơn báo giá",
        },
        {
            trigger: ".o_field_widget[name=partner_id] input",
            run: "edit Công ty Tour",
        },
        {
            trigger:
                ".o_field_widget[name=partner_id] .o-autocomplete--dropdown-menu li:contains(Công ty Tour)",
            run: "click",
        },
        {
            content: "The deadline follows the customer's tier",
            trigger: ".o_field_widget[name=date_deadline] input:value(/.+/)",
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            content: "Resolve it",
            trigger: ".o_statusbar_status button:contains(Resolved)",
            run: "click",
        },
        {
            content: "The resolved date is shown",
            trigger: ".o_field_widget[name=date_resolved] input:value(/.+/)",
        },
        {
            content: "The survey was emailed to the customer",
            trigger: ".o-mail-Message:contains(We have handled your request)",
        },
    ],
});
