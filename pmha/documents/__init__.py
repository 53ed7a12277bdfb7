"""Documents the applicant receives, in English, Turkish or Arabic: consent forms, the page that
hands them out in the applicant's language, and the words they share."""
