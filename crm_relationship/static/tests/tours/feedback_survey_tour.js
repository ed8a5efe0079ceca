import {registry} from "@web/core/registry";

registry.category("web_tour.tours").add("crm_relationship_feedback_survey_tour", {
    steps: () => [
        {
            content: "Would recommend: 9 out of 10",
            trigger: "label[for='nps_9']",
            run: "click",
        },
        {
            content: "Satisfied: 4 out of 5",
            trigger: "label[for='csat_4']",
            run: "click",
        },
        {
            content: "Leave a comment",
            trigger: "textarea[name='comment']",
            run: "edit Nhân viên rất nhiệt tình",
        },
        {
            content: "Send the answer",
            trigger: "button[type='submit']",
            run: "click",
        },
        {
            content: "The thank-you page is shown",
            trigger: ".o_feedback_survey_done",
        },
    ],
});
