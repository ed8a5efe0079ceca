import { registry } from "@web/core/registry";

registry.category("web_tour.tours").add("crm_relationship_kpi_tour", {
    steps: () => [
        {
            content: "Active customers, far below their target, show in red",
            trigger: ".o_list_view tr.text-danger td[name='name']:contains('Active customers')",
        },
        {
            content: "Open the retention rate",
            trigger: ".o_list_view td[name='name']:contains('Retention rate')",
            run: "click",
        },
        {
            content: "Its definition is shown on the form",
            trigger: ".o_form_view .o_notebook .active:contains('Definition')",
        },
        {
            content: "The latest value is in green: on target",
            trigger: ".o_form_view .o_field_widget[name='latest_value'].text-success",
        },
        {
            content: "Open the trend",
            trigger: "button[name='action_view_values']",
            run: "click",
        },
        {
            content: "The trend opens as a graph of the company's values",
            trigger: ".o_graph_view .o_graph_renderer canvas",
        },
        {
            content: "Switch to the pivot",
            trigger: ".o_switch_view.o_pivot",
            run: "click",
        },
        {
            content: "The pivot shows the value and the target by month",
            trigger: ".o_pivot th:contains('Target')",
        },
    ],
});
