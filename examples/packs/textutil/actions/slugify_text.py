from slugify import slugify
from st2common.runners.base_action import Action


class SlugifyAction(Action):
    def run(self, text):
        return slugify(text)
